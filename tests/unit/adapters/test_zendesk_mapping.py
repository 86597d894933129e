"""Zendesk export JSON -> BugRecord: every field the store needs, and every odd shape mapped or reported."""

from __future__ import annotations

import pytest

from adapters.pull import UnmappableRecord
from adapters.zendesk import index_users, ticket_to_record
from tests.fakes.zendesk import FakeZendesk

USERS = index_users(
    [
        {"id": 7, "name": "Ann Customer", "email": "ann@example.com", "role": "end-user"},
        {"id": 9, "name": "Bob Agent", "email": "bob@example.com", "role": "agent"},
        {"id": "junk"},
        "not a user",
    ]
)


def _ticket(**fields):
    fake = FakeZendesk(subdomain="acme")
    return fake.add_ticket(42, **{"requester_id": 7, "assignee_id": 9, **fields})


def test_maps_every_field_the_store_needs():
    record = ticket_to_record(
        _ticket(subject="Pay button dead", priority="urgent", status="open", tags=["web", "checkout"]),
        USERS,
        "acme",
    )
    assert record.home_id == "ZD-42"
    assert (record.source_system, record.record_id) == ("zendesk", "42")
    assert record.title == "Pay button dead"
    assert (record.priority, record.priority_raw) == ("Critical", "urgent")
    assert (record.state, record.state_type, record.deleted) == ("open", "started", False)
    assert record.url == "https://acme.zendesk.com/agent/tickets/42"
    assert record.created_at.endswith("Z") and len(record.created_at) == 27
    assert record.attributes["requester"] == {"id": 7, "name": "Ann Customer", "email": "ann@example.com"}
    assert record.attributes["assignee"] == {"id": 9, "name": "Bob Agent", "email": "bob@example.com"}
    assert record.attributes["tags"] == ["checkout", "web"]
    assert record.attributes["subject"] == "Pay button dead"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("urgent", "Critical"), ("high", "High"), ("normal", "Medium"), ("low", "Low"), (None, None)],
)
def test_priorities(raw, expected):
    assert ticket_to_record(_ticket(priority=raw), USERS, "acme").priority == expected


def test_deleted_tickets_are_marked_deleted():
    record = ticket_to_record(_ticket(status="deleted"), USERS, "acme")
    assert record.deleted and record.state == "deleted" and record.state_type == "done"


def test_odd_but_usable_shapes_still_map():
    ticket = _ticket(
        priority="whenever", status="brand-new-status", subject=None, tags=None, assignee_id=None
    )
    ticket["requester_id"] = 12345  # not in the sideload
    del ticket["updated_at"]
    record = ticket_to_record(ticket, USERS, "acme")
    assert record.priority is None and record.priority_raw == "whenever"
    assert record.state == "brand-new-status" and record.state_type is None
    assert record.title == "" and record.attributes["tags"] == []
    assert record.attributes["assignee"] is None
    assert record.attributes["requester"] == {"id": 12345, "name": None, "email": None}
    assert record.updated_at == record.created_at


@pytest.mark.parametrize(
    "item",
    [
        "a string",
        None,
        {"subject": "no id", "created_at": "2025-01-01T00:00:00Z"},
        {"id": True, "created_at": "2025-01-01T00:00:00Z"},
        {"id": -3, "created_at": "2025-01-01T00:00:00Z"},
        {"id": 5},
        {"id": 5, "created_at": "yesterday"},
        {"id": 5, "created_at": "2025-01-01T00:00:00Z", "updated_at": "soon"},
    ],
)
def test_unusable_items_are_reported_not_crashed(item):
    with pytest.raises(UnmappableRecord) as raised:
        ticket_to_record(item, USERS, "acme")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("generated", "version"),
    [
        (1_764_300_000, "2025-11-28T03:20:00.000000Z"),
        (None, None),  # absent: compared by updated_at
        ("1764300000", None),
        (True, None),
        (0, None),
    ],
)
def test_generated_timestamp_is_the_records_version(generated, version):
    record = ticket_to_record(_ticket(generated_timestamp=generated), USERS, "acme")
    assert record.source_version == version
    assert record.version == (version or record.updated_at)


def test_the_merge_target_is_read_from_the_audit_s_via_or_its_comment():
    from adapters.zendesk import merge_target

    via = {"channel": "web", "source": {"rel": "merge", "from": {}, "to": {"ticket_id": 77}}}
    assert merge_target([{"id": 1, "events": []}, {"id": 2, "via": via, "events": []}]) == 77
    comment = {"type": "Comment", "body": 'This request was closed and merged into request #88 "Checkout".'}
    assert merge_target([{"id": 3, "via": {"channel": "web"}, "events": [comment]}]) == 88
    assert merge_target([{"id": 4, "events": [{"type": "Comment", "body": "no merge here"}]}]) is None
    assert merge_target(None) is None and merge_target([{"via": {"source": {"rel": "merge"}}}]) is None
