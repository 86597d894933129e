"""Shortcut story -> BugRecord, priority choice and Zendesk links found in external_links."""

from __future__ import annotations

import pytest

from adapters.pull import UnmappableRecord
from adapters.shortcut import story_priority, story_to_record, zendesk_ticket_ids
from tests.fakes.shortcut import STATES, FakeShortcut

STATE_MAP = {state_id: {"name": name, "type": kind} for state_id, name, kind in STATES}


def _story(**fields):
    return FakeShortcut().add_story(31, **fields)


def test_maps_a_story():
    story = _story(name="Crash on save", workflow_state_id=500000003, labels=[{"name": "ios"}])
    record = story_to_record(story, STATE_MAP)
    assert record.home_id == "SC-31" and record.source_system == "shortcut"
    assert record.title == "Crash on save"
    assert (record.state, record.state_type) == ("In Development", "started")
    assert record.url == "https://app.shortcut.com/acme/story/31"
    assert record.attributes["shortcut_story_id"] == 31
    assert record.attributes["labels"] == ["ios"]
    assert record.priority is None and not record.deleted


def test_unknown_state_maps_without_a_state():
    record = story_to_record(_story(workflow_state_id=999), STATE_MAP)
    assert record.state is None and record.state_type is None


PRIORITY_FIELD = "5f0c0000-0000-4000-8000-00000000a001"
SEVERITY_FIELD = "5f0c0000-0000-4000-8000-00000000a002"


def _value(field_id, value):
    return {"field_id": field_id, "value_id": f"{field_id[:-4]}b{value[:3].lower()}", "value": value}


@pytest.mark.parametrize(
    ("custom_fields", "labels", "expected"),
    [
        ([_value(PRIORITY_FIELD, "Highest")], [], ("Critical", "Highest")),
        ([_value(PRIORITY_FIELD, "Web")], [{"name": "P1"}], ("High", "P1")),
        ([], [{"name": "frontend"}, {"name": "priority:low"}], ("Low", "priority:low")),
        ([], [{"name": "frontend"}], (None, None)),
        # a Severity field first, with a value that reads as a priority: never taken
        ([_value(SEVERITY_FIELD, "Critical"), _value(PRIORITY_FIELD, "Low")], [], ("Low", "Low")),
        ([_value(SEVERITY_FIELD, "High")], [], (None, None)),
    ],
)
def test_priority_from_the_canonical_priority_field_then_label(custom_fields, labels, expected):
    story = {"custom_fields": custom_fields, "labels": labels}
    assert story_priority(story, {PRIORITY_FIELD}) == expected


def test_without_known_priority_fields_no_custom_field_counts():
    assert story_priority({"custom_fields": [_value(PRIORITY_FIELD, "High")]}) == (None, None)


def test_backlog_and_archived_states():
    states = {**STATE_MAP, 600000009: {"name": "Icebox", "type": "backlog"}}
    backlog = story_to_record(_story(workflow_state_id=600000009), states)
    assert (backlog.state, backlog.state_type) == ("Icebox", "backlog")
    archived = story_to_record(_story(workflow_state_id=500000003, archived=True), states)
    assert (archived.state, archived.state_type) == ("archived", "done")
    assert archived.attributes["archived"] is True
    assert archived.attributes["workflow_state"] == "In Development"


def test_zendesk_links_are_found_lowest_first():
    links = [
        "https://acme.zendesk.com/agent/tickets/88",
        "https://github.com/acme/app/issues/5",
        "https://acme.zendesk.com/tickets/12",
        "http://other.zendesk.com/api/v2/tickets/88.json",
        "https://evil.example.com/acme.zendesk.com/agent/tickets/1",
        42,
    ]
    assert zendesk_ticket_ids(links) == [12, 88]
    record = story_to_record(_story(external_links=links), STATE_MAP)
    assert record.attributes["zendesk_ticket_ids"] == [12, 88]


def test_null_updated_at_falls_back_to_created_at():
    record = story_to_record(_story(updated_at=None), STATE_MAP)
    assert record.updated_at == record.created_at


@pytest.mark.parametrize("item", [None, [], {"id": "31"}, {"id": 31}, {"id": 31, "created_at": "never"}])
def test_unusable_stories_are_reported(item):
    with pytest.raises(UnmappableRecord):
        story_to_record(item, STATE_MAP)
