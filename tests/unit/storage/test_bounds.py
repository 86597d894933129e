"""A record never outgrows MAX_RECORD_BYTES, whatever a source hands us; bounding twice changes nothing."""

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.shortcut import story_to_record
from adapters.slack_message import MAX_PROBLEMS, MAX_TAGS, TEXT_LIMIT, message_to_record, parse_tags
from adapters.zendesk import ticket_to_record
from storage.bounds import MAX_RECORD_BYTES, bound_record, record_bytes
from tests.support.builders import logfmt_dump, slack_record

leaf = st.text(max_size=30) | st.integers() | st.booleans() | st.none()
attributes = st.dictionaries(
    st.text(min_size=1, max_size=10),
    st.recursive(
        leaf,
        lambda children: (
            st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5)
        ),
        max_leaves=20,
    ),
    max_size=8,
)


@settings(max_examples=60)
@given(attributes, st.integers(min_value=1, max_value=300_000), st.sampled_from(["x", "é", "😀"]))
def test_any_record_is_bounded_and_bounding_is_idempotent(extra, weight, char):
    record = slack_record(
        1, title=char * weight, attributes={**extra, "huge": char * weight, "many": [char] * weight}
    )
    bounded = bound_record(record)
    assert record_bytes(bounded) <= MAX_RECORD_BYTES
    assert bound_record(bounded) == bounded


def test_a_small_record_is_left_alone():
    record = slack_record(1)
    assert bound_record(record) == record


def test_a_tag_dense_logfmt_dump_makes_a_small_record():
    text = logfmt_dump()
    tags = parse_tags(text)
    assert len(tags.raw) == MAX_TAGS and len(tags.problems) == MAX_PROBLEMS
    assert tags.problems[-1].startswith("…and ") and all(len(problem) < 400 for problem in tags.problems)
    record = message_to_record(
        {"ts": "1764300000.000001", "text": text, "user": "U1"},
        "C1",
        tags,
        url="https://w.slack.com/archives/C1/p1764300000000001",
    )
    assert record.attributes["text_truncated"] is True and record.attributes["text_length"] == len(text)
    assert len(record.attributes["text"]) <= TEXT_LIMIT and record.url
    assert record_bytes(record) <= MAX_RECORD_BYTES


def test_a_huge_zendesk_ticket_and_story_are_bounded():
    ticket = {"id": 9, "subject": "S" * 500_000, "status": "open", "priority": "p" * 10_000,
              "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-02T10:00:00Z",
              "tags": [f"tag{n}" for n in range(20_000)], "requester_id": 1}  # fmt: skip
    record = ticket_to_record(ticket, {1: {"id": 1, "name": "N" * 100_000, "email": None}}, "acme")
    assert record_bytes(record) <= MAX_RECORD_BYTES and record.attributes["bounded"] is True
    assert len(record.title) <= 500 and len(record.priority_raw) <= 200
    story = {"id": 5, "name": "n" * 100_000, "created_at": "2026-11-01T10:00:00Z",
             "external_links": [f"https://x.example/{n}" for n in range(50_000)],
             "labels": [{"name": f"l{n}"} for n in range(5000)]}  # fmt: skip
    assert record_bytes(story_to_record(story, {})) <= MAX_RECORD_BYTES


def test_the_fast_path_is_an_upper_bound_even_for_control_characters():
    """JSON writes a control character as 6 bytes: a record of them must still be measured, and cut."""
    record = slack_record(1, attributes={"a": "\x01" * 7999, "b": "\x01" * 7999})
    assert record_bytes(bound_record(record)) <= MAX_RECORD_BYTES
