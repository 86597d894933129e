"""`/bug` says what was wrong with what was typed (cursor, filter, id), on both stores; fuzzed with the
words that used to break it: never an exception, never "something went wrong", never live markup."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.slash import dispatch
from storage.paging import encode_cursor
from tests.support.builders import slack_record, zendesk_record
from tests.support.slack_payload import live_markup


@pytest.fixture
def filled(store):
    store.upsert_many([zendesk_record(n) for n in range(1, 4)] + [slack_record(n) for n in range(10, 40)])
    return store


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("list source slack next MQ", "page cursor is not one this store gave out"),
        ("list priority High next `not-a-cursor!`", "page cursor is not one this store gave out"),
        (f"unlinked next {encode_cursor({'ticketId': 'x'})}", "page cursor is not one this store gave out"),
        ("list source jira", "unknown source 'jira'"),
        ("list colour red", "cannot list by 'colour'"),
        ("list priority whenever", "is not a priority"),
        ("list state " + "s" * 400, "at most 200"),
        ("show ZD-" + "9" * 50, "is not a ticket id"),
    ],
)
def test_bad_input_is_answered_with_what_was_wrong(filled, text, says):
    reply = dispatch(filled, text, "U1")
    assert says in reply.text and len(reply.text) < 2000
    assert live_markup(reply.payload()) == []


def test_list_pages_on_and_the_next_command_works(filled):
    first = dispatch(filled, "list source Slack", "U1")
    command = first.text.rsplit("next page: ", 1)[1].strip()
    second = dispatch(filled, command, "U1")
    first_ids, second_ids = (set(re.findall(r"SL-[0-9.]+", reply.text)) for reply in (first, second))
    assert len(first_ids) == 20 and len(second_ids) == 10 and not first_ids & second_ids


_words = st.sampled_from(
    ["list", "unlinked", "show", "link", "next", "source", "priority", "state", "Slack", "High", "MQ", "ZD-1",
     "SL-1764300010.000010", "`", "<!channel>", "&lt;", "public", "deleted", "²", "9999-12-31T23:59:59-01:00",
     encode_cursor([1, 2]), encode_cursor(["a", "b"]), encode_cursor({"ticketId": "SL-1"})]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(_words, st.text(max_size=12)), max_size=6).map(" ".join))
def test_fuzzed_bug_text_is_always_answered_inert(filled, text):
    reply = dispatch(filled, text, "U1")
    payload = reply.payload()
    assert reply.text.strip() and "Traceback" not in reply.text
    assert live_markup(payload, ["https://example.slack.com/", "https://acme.zendesk.com/"]) == []
    assert len(payload["text"]) <= 3000 and len(payload["blocks"]) <= 50
