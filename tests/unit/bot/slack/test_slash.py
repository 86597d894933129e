"""`/bug` parsing and dispatch on the real embedded store; fuzzed: every reply is a clear message."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.intake import Intake
from bot.slack.slash import USAGE, Command, CommandUsageError, dispatch, parse_command
from bot.tickets.link import operator

TS = "1732712345.000100"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("show ZD-1", Command("show", ("ZD-1",))),
        ("  SHOW `zd-1` public", Command("show", ("zd-1",), public=True)),
        ("show ZD-1 deleted", Command("show", ("ZD-1",), include_deleted=True)),
        ("show ZD-1 Deleted public", Command("show", ("ZD-1",), public=True, include_deleted=True)),
        ("/bug link SL-1.1 ZD-2", Command("link", ("SL-1.1", "ZD-2"))),
        ("list state In Progress", Command("list", ("state", "In Progress"))),
        ("list priority High next ab_c-", Command("list", ("priority", "High"), cursor="ab_c-")),
        ("", Command("help")),
    ],
)
def test_parse(text, command):
    assert parse_command(text) == command


@pytest.mark.parametrize(
    "text", ["frob", "show", "link ZD-1", "unlink", "list priority", "stats now", "show ZD-1 deleted later"]
)
def test_malformed_commands_raise_usage(text):
    with pytest.raises(CommandUsageError):
        parse_command(text)


def test_show_link_show_again(sqlite_store):
    Intake(sqlite_store).ingest_message({"user": "U1", "text": "Login broken", "ts": TS}, "C0BUGS")
    assert "Login broken" in dispatch(sqlite_store, f"show SL-{TS}", "U1").text
    linked = dispatch(sqlite_store, f"link SL-{TS} ZD-9", "U1")
    assert f"slack#{TS}" in linked.text and "ZD-9" in linked.text
    again = dispatch(sqlite_store, f"show SL-{TS}", "U1")
    assert f"SL-{TS} was linked" in again.text and again.blocks[0]["text"]["text"] == "ZD-9"


def test_show_of_a_ticket_deleted_upstream_says_so_and_how_to_see_it(sqlite_store):
    from tests.support.builders import zendesk_record

    sqlite_store.upsert(zendesk_record(3, status="deleted"))
    hidden = dispatch(sqlite_store, "show ZD-3", "U1")
    assert "ZD-3: 1 record deleted upstream; add `deleted` to see it" in hidden.text
    shown_blocks = " ".join(str(block) for block in hidden.blocks)
    assert "1 record deleted upstream; add `deleted` (`/bug show ZD-3 deleted`) to see it" in shown_blocks
    assert "no records" not in shown_blocks and "0 record(s)" not in hidden.text
    everything = dispatch(sqlite_store, "show zd-3 deleted", "U1")
    assert "Ticket 3" in everything.text and "deleted upstream" in str(everything.blocks)
    assert "to see it" not in everything.text


def test_linkers_are_enforced(sqlite_store):
    Intake(sqlite_store).ingest_message({"user": "U1", "text": "x", "ts": TS}, "C0BUGS")
    only_u1 = lambda user: replace(operator(user), linker=user == "U1", linkers_named=True)  # noqa: E731
    reply = dispatch(sqlite_store, f"link SL-{TS} ZD-9", "U2", actor_of=only_u1)
    assert "may not link" in reply.text and sqlite_store.resolve(f"SL-{TS}") == (f"SL-{TS}",)


def test_expected_errors_are_one_line(sqlite_store):
    assert dispatch(sqlite_store, "show ZD-404", "U1").text.count("\n") == 0
    assert "not a ticket id" in dispatch(sqlite_store, "show banana", "U1").text
    assert dispatch(sqlite_store, "unknown", "U1").text.endswith(USAGE)


def test_list_paginates_with_a_next_command(sqlite_store):
    intake = Intake(sqlite_store)
    for n in range(25):
        intake.ingest_message(
            {"user": "U1", "text": f"bug {n} priority=High", "ts": f"17327123{n:02d}.000000"}, "C"
        )
    first = dispatch(sqlite_store, "list priority p1", "U1")
    button = first.blocks[-1]["elements"][0]
    assert button["action_id"] == "bug_next_page" and button["value"].startswith(
        "/bug list priority High next "
    )
    second = dispatch(sqlite_store, button["value"], "U1")
    assert len(first.blocks) - 2 == 20 and len(second.blocks) - 1 == 5
    assert "bug 24" in first.text and "bug 0" in second.text


_words = st.sampled_from(
    [
        "show",
        "link",
        "unlink",
        "list",
        "unlinked",
        "stats",
        "help",
        "priority",
        "state",
        "source",
        "High",
        "ZD-1",
        "SL-1732712345.000100",
        "next",
        "public",
        "`",
        "/bug",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_words, st.text(max_size=15)), max_size=6).map(" ".join))
def test_fuzz_dispatch_always_answers_with_text(text):
    from storage.sqlite import SqliteStore

    store = SqliteStore(":memory:")
    reply = dispatch(store, text, "U1")
    assert reply.text.strip()
    assert "Traceback" not in reply.text
