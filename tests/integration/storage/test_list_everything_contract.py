"""`list_records()` with no filter: every live bug, newest first across the sources, paged (both stores).

On DynamoDB this merges the three sources' partitions of one index; rows created in the same second come
back from an index in no set order, so ties at a page's edge are the case to get right."""

from __future__ import annotations

import pytest

from storage.paging import InvalidCursor
from storage.store import BugStore
from tests.support.builders import shortcut_record, slack_record, zendesk_record


def _pages(store: BugStore, limit: int, **filters) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = store.list_records(limit=limit, cursor=cursor, **filters)
        pages.append([record.source_record for record in page.records])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_every_live_bug_newest_first_across_sources(store):
    store.upsert_many(
        [
            slack_record(1),
            zendesk_record(2),
            shortcut_record(3),
            zendesk_record(4, status="deleted"),  # deleted upstream: hidden
            shortcut_record(5, state="archived", state_type="done"),  # archived: only by state
            slack_record(6),
        ]
    )
    listed = store.list_records(limit=50)
    assert [r.source_record for r in listed.records] == [
        slack_record(6).source_record,
        "shortcut#3",
        "zendesk#2",
        slack_record(1).source_record,
    ]
    assert listed.next_cursor is None


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_pages_cover_everything_once_in_order_with_ties_at_page_edges(store, limit):
    # eight records in one second, from all three sources, then some on their own
    tied = {"created_at": "2026-11-02T10:00:00Z"}
    records = [zendesk_record(n, **tied) for n in range(10, 13)]
    records += [shortcut_record(n, **tied) for n in range(20, 23)]
    records += [slack_record(n, **tied) for n in (30, 31)]
    records += [zendesk_record(1), shortcut_record(2), slack_record(3)]
    store.upsert_many(records)
    pages = _pages(store, limit)
    flat = [row for page in pages for row in page]
    expected = sorted(records, key=lambda r: (r.created_at, r.source_record), reverse=True)
    assert flat == [r.source_record for r in expected]
    assert all(len(page) == limit for page in pages[:-1])


def test_a_date_range_and_a_cursor_that_is_not_ours(store):
    store.upsert_many([zendesk_record(1), slack_record(2), shortcut_record(3)])
    since = zendesk_record(2).created_at
    assert [r.record_id for r in store.list_records(since=since).records] == ["3", slack_record(2).record_id]
    with pytest.raises(InvalidCursor):
        store.list_records(limit=1, cursor="WyJ4Il0")  # ["x"]: base64 JSON, but not a position
