from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.errors import InvalidPriority, InvalidTicketId
from storage.model import (
    BugRecord,
    format_timestamp,
    is_canonical_ticket_id,
    normalize_priority,
    normalize_timestamp,
    parse_ticket_id,
    range_bounds,
    source_of,
    timestamp_from_epoch,
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("ZD-12345", "ZD-12345"),
        ("zd-12345", "ZD-12345"),
        (" Sc-56789 ", "SC-56789"),
        ("sl-1732712345.123456", "SL-1732712345.123456"),
        ("ZD-0042", "ZD-42"),
        ("zd-00001", "ZD-1"),
        ("SC-007", "SC-7"),
        ("ZD-000", "ZD-0"),
        ("SL-0732712345.123456", "SL-0732712345.123456"),  # a Slack ts is kept as written
    ],
)
def test_ticket_ids_are_canonicalised(text, canonical):
    assert parse_ticket_id(text) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ZD-",
        "ZD-12a",
        "ZD12345",
        "JIRA-1",
        "SL-1732712345",
        "SL-1732712345.12",
        "SC-1 2",
        "ZD--1",
        "ZD-1;drop",
    ],
)
def test_anything_else_is_rejected_with_the_accepted_forms(text):
    with pytest.raises(
        InvalidTicketId, match=r"ZD-<digits> \(Zendesk\), SC-<digits> \(Shortcut\), SL-<slack ts>"
    ):
        parse_ticket_id(text)


@given(st.text(max_size=80))
def test_parsing_never_fails_with_anything_but_a_clear_error(text):
    try:
        canonical = parse_ticket_id(text)
    except InvalidTicketId as exc:
        assert "is not a ticket id" in str(exc)
    else:
        assert parse_ticket_id(canonical) == canonical
        assert source_of(canonical) in ("zendesk", "shortcut", "slack")


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("urgent", "Critical"),
        ("P0", "Critical"),
        ("high", "High"),
        ("P1", "High"),
        ("normal", "Medium"),
        ("medium", "Medium"),
        ("p2", "Medium"),
        ("Low", "Low"),
        ("p3", "Low"),
        (None, None),
        ("", None),
    ],
)
def test_priorities_are_normalised(raw, normal):
    assert normalize_priority(raw) == normal


def test_an_unknown_priority_is_refused_not_guessed():
    with pytest.raises(InvalidPriority, match="Critical, High, Medium, Low"):
        normalize_priority("asap")


def test_the_refusal_names_every_accepted_form_and_each_one_is_accepted():
    with pytest.raises(InvalidPriority, match=r"P0-P4, sev1-sev4\)"):
        normalize_priority("asap")
    assert [normalize_priority(f"P{n}") for n in range(5)] == ["Critical", "High", "Medium", "Low", "Low"]
    assert [normalize_priority(f"sev{n}") for n in range(1, 5)] == ["Critical", "High", "Medium", "Low"]


def test_timestamps_have_one_sortable_format():
    assert timestamp_from_epoch("1732712345.123456") == "2024-11-27T12:59:05.123456Z"
    assert normalize_timestamp("2024-11-27T12:59:05Z") == "2024-11-27T12:59:05.000000Z"
    assert normalize_timestamp("2024-11-27T13:59:05+01:00") == "2024-11-27T12:59:05.000000Z"
    earlier, later = timestamp_from_epoch(9), timestamp_from_epoch(10)
    assert earlier < later and len(earlier) == len(later)


def test_range_bounds_take_whole_days():
    low, high = range_bounds("2026-11-01", "2026-11-02")
    assert low == "2026-11-01T00:00:00.000000Z" and high == "2026-11-02T23:59:59.999999Z"
    assert range_bounds(None, None) == ("0000", "9999")


def test_records_check_their_vocabulary():
    with pytest.raises(ValueError, match="priority"):
        BugRecord("zendesk", "1", "t", "t", priority="urgent")
    with pytest.raises(ValueError, match="source"):
        BugRecord("jira", "1", "t", "t")
    record = BugRecord("slack", "1.000001", "t", "t")
    assert (record.home_id, record.source_record, record.location) == (
        "SL-1.000001",
        "slack#1.000001",
        "SL-1.000001",
    )


def test_format_timestamp_treats_naive_times_as_utc():
    from datetime import datetime

    assert format_timestamp(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000000Z"


def test_canonical_ids_are_recognised():
    assert is_canonical_ticket_id("ZD-42")
    assert not is_canonical_ticket_id("ZD-0042")
    assert not is_canonical_ticket_id("zd-42")
    assert not is_canonical_ticket_id("#meta")


def test_the_four_shortcut_state_types_are_the_vocabulary():
    for state_type in ("backlog", "unstarted", "started", "done"):
        record = BugRecord("shortcut", "1", "2026-01-01", "2026-01-01", state_type=state_type)
        assert record.state_type == state_type
    with pytest.raises(ValueError, match="state type must be one of"):
        BugRecord("shortcut", "1", "2026-01-01", "2026-01-01", state_type="finished")  # the API's word


def test_version_is_the_source_version_when_given_else_updated_at():
    plain = BugRecord("zendesk", "1", "2026-01-01T00:00:00.000000Z", "2026-01-02T00:00:00.000000Z")
    assert plain.version == plain.updated_at
    versioned = BugRecord(
        "zendesk", "1", plain.created_at, plain.updated_at, source_version="2026-01-03T00:00:00.000000Z"
    )
    assert versioned.version == "2026-01-03T00:00:00.000000Z"
