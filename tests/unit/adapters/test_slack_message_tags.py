"""The inline tag parser: forgiving about form, never guessing about content."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack_message import is_person_message, is_thread_reply, parse_tags, permalink, title_of


@pytest.mark.parametrize(
    "text",
    [
        "Login broken ticketId=ZD-12345",
        "Login broken TICKETID = zd-12345.",
        "Login broken `ticketId=ZD-12345`",
        "Login broken ticketid: ZD-12345!",
        "Login broken *ticket_id*=`ZD-12345`,",
        "see (ticketId=ZD-12345)",
    ],
)
def test_ticket_id_forms_are_read(text):
    tags = parse_tags(text)
    assert tags.ticket_id == "ZD-12345"
    assert tags.problems == ()


@pytest.mark.parametrize(
    ("text", "priority"),
    [("priority=High", "High"), ("Priority : urgent.", "Critical"), ("`priority=p2`", "Medium"), ("", None)],
)
def test_priority_is_normalised(text, priority):
    assert parse_tags(f"Checkout fails {text}").priority == priority


def test_unknown_priority_is_reported_and_raw_value_kept():
    tags = parse_tags("Checkout fails priority=banana")
    assert tags.priority is None
    assert tags.priority_raw == "banana"
    assert len(tags.problems) == 1 and "banana" in tags.problems[0] and "High" in tags.problems[0]


def test_malformed_id_is_reported_not_guessed():
    tags = parse_tags("ticketId=ZD12345 broken")
    assert tags.ticket_id is None
    assert "ZD12345" in tags.problems[0] and "ZD-<digits>" in tags.problems[0]


def test_two_different_ids_are_refused_not_picked():
    tags = parse_tags("ticketId=ZD-1 and ticketId=SC-2")
    assert tags.ticket_id is None
    assert "ZD-1" in tags.problems[0] and "SC-2" in tags.problems[0]


def test_same_id_twice_is_fine_and_slack_ids_are_accepted():
    assert parse_tags("ticketId=ZD-1 ticketid=zd-1").ticket_id == "ZD-1"
    assert parse_tags("ticketId=SL-1732712345.123456").ticket_id == "SL-1732712345.123456"


def test_empty_value_is_a_problem():
    assert "no value" in parse_tags("priority= ").problems[0]


def test_words_containing_the_key_are_not_tags():
    assert parse_tags("the subticketId=ZD-1 thing").raw == ()


def test_title_is_first_line_without_tags_and_bounded():
    assert title_of("\n  Login broken priority=High ticketId=ZD-1\nmore") == "Login broken"
    assert len(title_of("x" * 500)) == 120
    assert title_of("priority=High") == "(no text)"


def test_noise_is_not_a_person_message():
    person = {"type": "message", "user": "U1", "text": "hi", "ts": "1732712345.000100"}
    assert is_person_message(person)
    assert not is_person_message({**person, "subtype": "channel_join"})
    assert not is_person_message({**person, "bot_id": "B1"})
    assert not is_person_message(person, bot_user_id="U1")
    assert is_thread_reply({**person, "thread_ts": "1732712345.000001"})
    assert not is_thread_reply({**person, "thread_ts": person["ts"]})


def test_permalink_form():
    assert (
        permalink("https://acme.slack.com/", "C1", "1732712345.000100")
        == "https://acme.slack.com/archives/C1/p1732712345000100"
    )


_tag_like = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda key, sep, value, tail: f"{key}{sep}{value}{tail}",
        st.sampled_from(["ticketId", "TICKETID", "ticket_id", "priority", "Priority", "`priority"]),
        st.sampled_from(["=", " = ", ":", ": ", "=`"]),
        st.text(max_size=25),
        st.sampled_from(["", ".", "`", "!", ")", " and more"]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_tag_like, max_size=5).map(" ".join))
def test_fuzz_parser_never_raises_and_problems_are_one_line(text):
    tags = parse_tags(text)
    for problem in tags.problems:
        assert problem and "\n" not in problem
    if tags.ticket_id is not None:
        assert tags.ticket_id.split("-")[0] in ("ZD", "SC", "SL")
    assert tags.priority in (None, "Critical", "High", "Medium", "Low")
