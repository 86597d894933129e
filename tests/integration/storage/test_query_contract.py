"""Index queries, counts and bookkeeping, identical on both stores."""

from __future__ import annotations

import pytest

from storage.errors import BugTrackerError
from tests.support.builders import shortcut_record, slack_record, zendesk_record


def _all_pages(fetch, limit):
    rows, cursor, pages = [], None, 0
    while True:
        page = fetch(limit=limit, cursor=cursor)
        rows += list(page.records)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return rows, pages
        assert pages < 50, "paging never ended"


@pytest.fixture
def mixed(store):
    store.upsert_many(
        [
            zendesk_record(n, priority="High" if n % 2 else "Low", status="open" if n < 8 else "solved")
            for n in range(1, 11)
        ]
        + [shortcut_record(n) for n in range(20, 25)]
        + [slack_record(n, priority="High", priority_raw="p1") for n in range(30, 33)]
        + [zendesk_record(40, priority="High", status="deleted")]
    )
    return store


def test_list_by_priority_pages_with_cursors_newest_first_and_skips_deleted(mixed):
    rows, pages = _all_pages(lambda **kw: mixed.list_records(priority="High", **kw), limit=3)
    keys = [r.source_record for r in rows]
    assert len(keys) == len(set(keys)) == 8  # 5 odd Zendesk tickets + 3 Slack reports, not the deleted one
    assert pages >= 3
    created = [r.created_at for r in rows]
    assert created == sorted(created, reverse=True)
    assert all(r.priority == "High" and not r.deleted for r in rows)
    assert rows[0].ticket_id and rows[0].title  # rows carry the summary fields


def test_list_by_state_and_source_and_date_range(mixed):
    solved = mixed.list_records(state="solved", limit=50).records
    assert sorted(r.record_id for r in solved) == ["10", "8", "9"]
    stories = mixed.list_records(source="shortcut", limit=50).records
    assert {r.record_id for r in stories} == {"20", "21", "22", "23", "24"}
    window = mixed.list_records(
        source="zendesk", since=zendesk_record(3).created_at, until=zendesk_record(5).created_at, limit=50
    ).records
    assert sorted(r.record_id for r in window) == ["3", "4", "5"]
    both = mixed.list_records(priority="Low", state="open", limit=50).records
    assert sorted(r.record_id for r in both) == ["2", "4", "6"]


def test_list_needs_a_sane_page_size(store):
    # no filter is no longer refused: it lists everything (test_list_everything_contract.py)
    with pytest.raises(BugTrackerError, match="page size"):
        store.list_records(source="slack", limit=0)
    with pytest.raises(BugTrackerError, match="page size"):
        store.list_records(limit=0)
    with pytest.raises(BugTrackerError, match="cursor"):
        store.list_records(source="slack", cursor="not-a-cursor!")


def test_unlinked_slack_reports(mixed):
    linked = slack_record(31)
    mixed.link(linked.home_id, "ZD-1", actor="U1")
    rows, _ = _all_pages(mixed.unlinked_slack, limit=1)
    assert sorted(r.source_record for r in rows) == sorted(
        [slack_record(30).source_record, slack_record(32).source_record]
    )


def test_counts(mixed):
    mixed.link(slack_record(31).home_id, "ZD-1", actor="U1")
    counts = mixed.counts()
    assert counts.total == 18 and counts.deleted == 1
    assert counts.by_source == {"zendesk": 10, "shortcut": 5, "slack": 3}
    assert counts.by_priority == {"High": 8, "Low": 5, "none": 5}
    assert counts.by_state == {"open": 7, "solved": 3, "In Progress": 5}
    assert counts.by_state_type == {"started": 12, "done": 3, "none": 3}
    assert counts.open_by_priority == {"High": 7, "Low": 3, "none": 5}
    assert counts.open_by_source == {"zendesk": 7, "shortcut": 5, "slack": 3}
    assert (counts.slack_linked, counts.slack_unlinked) == (1, 2)


def test_new_per_day_per_source(store):
    day = 86_400
    store.upsert_many(
        [
            zendesk_record(1),
            zendesk_record(2, created_at=zendesk_record(2 + day).created_at),
            zendesk_record(3, created_at=zendesk_record(3 + day).created_at),
            slack_record(4),
            zendesk_record(5, status="deleted"),
        ]
    )
    first = zendesk_record(1).created_at[:10]
    second = zendesk_record(2 + day).created_at[:10]
    assert store.new_per_day(first, second) == {"zendesk": {first: 1, second: 2}, "slack": {first: 1}}
    assert store.new_per_day(second, second) == {"zendesk": {second: 2}}


def test_meta_values_round_trip(store):
    assert store.get_meta("sync:zendesk") is None
    store.put_meta("sync:zendesk", {"cursor": "abc", "page": 3, "ratio": 0.5})
    store.put_meta("sync:zendesk", {"cursor": "def", "page": 4, "ratio": 0.25})
    assert store.get_meta("sync:zendesk") == {"cursor": "def", "page": 4, "ratio": 0.25}


def test_a_lease_has_one_holder_until_it_expires_or_is_released(store):
    assert store.acquire_lease("sync:zendesk", "bot-1", ttl_seconds=60)
    assert not store.acquire_lease("sync:zendesk", "cli-2", ttl_seconds=60)
    assert store.acquire_lease("sync:zendesk", "bot-1", ttl_seconds=60)  # renewal by the holder
    store.release_lease("sync:zendesk", "cli-2")  # not the holder: no effect
    assert not store.acquire_lease("sync:zendesk", "cli-2", ttl_seconds=60)
    store.release_lease("sync:zendesk", "bot-1")
    assert store.acquire_lease("sync:zendesk", "cli-2", ttl_seconds=60)
    assert store.acquire_lease("sync:shortcut", "bot-1", ttl_seconds=-1)  # already expired
    assert store.acquire_lease("sync:shortcut", "cli-2", ttl_seconds=60)


def test_a_lease_can_be_taken_at_the_instant_it_expires_not_before(store):
    """One expiry rule on both stores: a lease is valid up to, not including, its expiry time."""
    store.clock = lambda: 1_000.0
    assert store.acquire_lease("sync:zendesk", "bot-1", ttl_seconds=60)  # expires at 1060
    store.clock = lambda: 1_059.999
    assert not store.acquire_lease("sync:zendesk", "cli-2", ttl_seconds=60)
    store.clock = lambda: 1_060.0
    assert store.acquire_lease("sync:zendesk", "cli-2", ttl_seconds=60)
    assert not store.acquire_lease("sync:zendesk", "bot-1", ttl_seconds=60)  # cli-2 holds it until 1120
    store.release_lease("sync:zendesk", "bot-1")  # no longer the holder: no effect
    assert not store.acquire_lease("sync:zendesk", "bot-1", ttl_seconds=60)
    store.clock = lambda: 1_120.0
    store.release_lease("sync:zendesk", "cli-2")  # expired, still its own: given up all the same
    assert store.acquire_lease("sync:zendesk", "bot-1", ttl_seconds=0)  # expires at once...
    assert store.acquire_lease("sync:zendesk", "cli-2", ttl_seconds=60)  # ...so taken at the same instant


def test_archived_and_backlog_stories(store):
    store.upsert_many(
        [
            shortcut_record(1, state="Icebox", state_type="backlog", priority="High"),
            shortcut_record(2, state="archived", state_type="done", priority="High"),
            shortcut_record(3, state="In Progress", state_type="started", priority="High"),
        ]
    )
    # archived: left out of default lists, listed when asked for by state, counted as done
    assert [r.record_id for r in store.list_records(priority="High").records] == ["3", "1"]
    assert [r.record_id for r in store.list_records(source="shortcut").records] == ["3", "1"]
    assert [r.record_id for r in store.list_records(state="archived").records] == ["2"]
    assert [r.record_id for r in store.list_records(state="Icebox").records] == ["1"]
    counts = store.counts()
    assert counts.by_state_type == {"backlog": 1, "done": 1, "started": 1}
    assert counts.open_by_source == {"shortcut": 2}  # backlog is open, archived is not
    assert len(store.show("SC-2").records) == 1  # shown by id as any record
