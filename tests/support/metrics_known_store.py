"""A store with known content for the metrics tests (unit and integration), and its counts by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from storage.store import BugStore
from tests.support.builders import shortcut_record, slack_record, zendesk_record

TODAY = date(2025, 11, 30)  # the collector's "today": the records below fall in its 30-day window


def _on(record, day: str):
    return replace(record, created_at=f"{day}T10:00:00.000000Z")


RECORDS = (
    _on(zendesk_record(1, status="open", priority="High"), "2025-11-28"),
    _on(zendesk_record(2, status="solved", priority="Critical"), "2025-11-28"),
    _on(zendesk_record(3, status="new", priority=None), "2025-11-29"),
    _on(zendesk_record(4, status="deleted", priority="Low"), "2025-11-29"),
    _on(zendesk_record(5, status="pending", priority="Low"), "2025-11-30"),
    _on(shortcut_record(1, priority="Medium"), "2025-11-20"),
    _on(shortcut_record(2, state="Done", state_type="done"), "2025-11-30"),
    _on(slack_record(1), "2025-11-28"),
    _on(slack_record(2), "2025-11-29"),
    _on(slack_record(3), "2025-11-29"),
    _on(slack_record(4), "2025-10-01"),  # outside the new-bugs window
)


def fill(store: BugStore) -> BugStore:
    store.upsert_many(RECORDS)
    store.link(RECORDS[7].home_id, "ZD-1", actor="test")  # Slack report 1 -> ZD-1
    store.link(RECORDS[8].home_id, "SC-1", actor="test")  # Slack report 2 -> SC-1
    return store


# What the metrics must say about that content, counted by hand (not by calling the code under test).
EXPECTED = {
    "bugtracker_bugs": {(): 10},
    "bugtracker_bugs_deleted": {(): 1},
    "bugtracker_bugs_by_priority": {
        ("Critical",): 1,
        ("High",): 1,
        ("Medium",): 1,
        ("Low",): 1,
        ("none",): 6,
    },
    "bugtracker_open_bugs_by_priority": {
        ("Critical",): 0,
        ("High",): 1,
        ("Medium",): 1,
        ("Low",): 1,
        ("none",): 5,
    },
    "bugtracker_bugs_by_state": {
        ("open",): 1,
        ("solved",): 1,
        ("new",): 1,
        ("pending",): 1,
        ("In Progress",): 1,
        ("Done",): 1,
    },
    "bugtracker_bugs_by_state_type": {
        ("backlog",): 0,
        ("unstarted",): 1,
        ("started",): 3,
        ("done",): 2,
        ("none",): 4,
    },
    "bugtracker_bugs_by_source": {("zendesk",): 4, ("shortcut",): 2, ("slack",): 4},
    "bugtracker_open_bugs_by_source": {("zendesk",): 3, ("shortcut",): 1, ("slack",): 4},
    "bugtracker_slack_reports": {("linked",): 2, ("unlinked",): 2},
}
# New bugs per (source, day) in the window that are not zero; every other day of the window is 0.
EXPECTED_NEW = {
    ("zendesk", "2025-11-28"): 2,
    ("zendesk", "2025-11-29"): 1,  # ZD-4 is deleted: not a live new bug
    ("zendesk", "2025-11-30"): 1,
    ("shortcut", "2025-11-20"): 1,
    ("shortcut", "2025-11-30"): 1,
    ("slack", "2025-11-28"): 1,
    ("slack", "2025-11-29"): 2,
}
