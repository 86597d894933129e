"""A page costs the same whatever lies before it: deleted and linked records ahead of the page are
not in the indexes the default views read. On DynamoDB the Queries are counted; on SQLite the plans are
read (each view is a search of its own partial index, in order, without a sort)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.support.builders import slack_record, zendesk_record

HIDDEN = 40  # deleted / linked records newer than anything the page shows
# The tests only read what `crowded` wrote: one set-up per store, on one worker.
pytestmark = pytest.mark.xdist_group("page-cost")


def requests(store, monkeypatch) -> list[str]:
    """The DynamoDB operations the store calls from now on (SQLite: stays empty)."""
    made: list[str] = []
    if hasattr(store.port, "call"):
        real = store.port.call

        def counted(operation, **kwargs):
            made.append(operation)
            return real(operation, **kwargs)

        monkeypatch.setattr(store.port, "call", counted)
    return made


@pytest.fixture(scope="module")
def crowded(module_store):
    """3 live unlinked Slack reports, then (newer) HIDDEN deleted reports, HIDDEN reports linked into ZD-1,
    and HIDDEN deleted High tickets; the live tickets are the oldest records."""
    store = module_store
    store.upsert_many(
        [zendesk_record(n, priority="High") for n in (1, 2)] + [zendesk_record(3, priority="Low")]
    )
    store.upsert_many([slack_record(n) for n in range(10, 13)])
    store.upsert_many([replace(slack_record(n), deleted=True) for n in range(100, 100 + HIDDEN)])
    linked = [slack_record(n, priority="Low") for n in range(200, 200 + HIDDEN)]
    store.upsert_many(linked)
    for report in linked:
        store.link(report.home_id, "ZD-1", actor="U1")
    store.upsert_many(
        [zendesk_record(n, status="deleted", priority="High") for n in range(300, 300 + HIDDEN)]
    )
    return store


def test_unlinked_pages_are_one_query_each_whatever_lies_before_them(crowded, monkeypatch):
    made = requests(crowded, monkeypatch)
    first = crowded.unlinked_slack(limit=2)
    assert [r.record_id for r in first.records] == [slack_record(12).record_id, slack_record(11).record_id]
    second = crowded.unlinked_slack(limit=2, cursor=first.next_cursor)
    assert [r.record_id for r in second.records] == [slack_record(10).record_id]
    assert second.next_cursor is None  # the extra row read says there is no third page
    if hasattr(crowded.port, "call"):  # DynamoDB: the requests were counted
        assert made == ["query", "query"]


def test_list_pages_skip_deleted_records_without_reading_them(crowded, monkeypatch):
    made = requests(crowded, monkeypatch)
    high = crowded.list_records(priority="High", limit=5)
    assert sorted(r.record_id for r in high.records) == ["1", "2"] and high.next_cursor is None
    reports = crowded.list_records(source="slack", limit=HIDDEN + 3)
    assert len(reports.records) == HIDDEN + 3 and not any(r.deleted for r in reports.records)
    if hasattr(crowded.port, "call"):  # DynamoDB: the requests were counted
        assert made == ["query", "query"]


def test_two_filters_cost_at_most_two_queries_a_page_and_page_through_everything(crowded, monkeypatch):
    made = requests(crowded, monkeypatch)
    rows, cursor, pages = [], None, 0
    while True:  # Low tickets: keyed on priority, filtered on source; the Low linked reports lie ahead
        page = crowded.list_records(priority="Low", source="zendesk", limit=5, cursor=cursor)
        rows += [r.record_id for r in page.records]
        pages += 1
        if (cursor := page.next_cursor) is None:
            break
        assert pages < 30, "paging never ended"
    assert rows == ["3"]
    if hasattr(crowded.port, "call"):  # DynamoDB: the requests were counted
        assert pages > 1  # short pages: the bound held while 40 reports were read past
        assert len(made) <= 2 * pages and set(made) == {"query"}


def test_sqlite_views_search_their_partial_index_in_order(sqlite_store):
    connection = sqlite_store.port._conn()
    listed = "deleted = 0 AND (state IS NULL OR state != 'archived')"
    views = {
        "listed_by_priority": f"{listed} AND priority = 'High'",
        "listed_by_source": f"{listed} AND source_system = 'slack'",
        "live_by_state": "deleted = 0 AND state = 'open'",
        "unlinked_slack": "deleted = 0 AND source_system = 'slack' AND ticket_id = home_id",
    }
    for index, where in views.items():
        plan = " ".join(
            row[3]
            for row in connection.execute(
                f"EXPLAIN QUERY PLAN SELECT * FROM records WHERE {where} AND created_at BETWEEN '0' AND '9'"
                " ORDER BY created_at DESC, source_record DESC LIMIT 51"
            )
        )
        assert f"USING INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan
