"""A page of what a person may read (bot/services.py `visible_page`), on both stores: full pages when there
is enough to show, a cursor that resumes exactly after the last row read, and a bound on store reads."""

from bot import services
from tests.support.builders import slack_record


def stored(store, count):
    records = [slack_record(n) for n in range(1, count + 1)]
    store.upsert_many(records)
    return records


def pages(store, visible, limit):
    shown, cursor = [], None
    while True:
        page = services.unlinked_reports(store, cursor=cursor, limit=limit, visible=visible)
        shown.append([r.record_id for r in page.records])
        cursor = page.next_cursor
        if cursor is None:
            return shown


def test_pages_of_what_may_be_read_are_full_and_miss_nothing(store):
    records = stored(store, 30)
    readable = {r.record_id for r in records[::3]}  # every third report: 10 of 30
    shown = pages(store, lambda row: row.record_id in readable, limit=4)
    assert [len(page) for page in shown[:-1]] == [4, 4] and len(shown[-1]) <= 4
    flat = [record_id for page in shown for record_id in page]
    assert sorted(flat) == sorted(readable) and len(flat) == len(set(flat))  # each once
    newest_first = sorted(readable, key=float, reverse=True)
    assert flat == newest_first


def test_a_person_who_may_read_almost_nothing_costs_a_bounded_number_of_reads(store):
    stored(store, 40)
    reads = []
    original = store.unlinked_slack

    def counted(**kwargs):
        reads.append(kwargs)
        return original(**kwargs)

    store.unlinked_slack = counted
    page = services.unlinked_reports(store, limit=2, visible=lambda row: False)
    assert page.records == () and page.next_cursor is not None  # "Next page" goes on from there
    assert len(reads) == services.MAX_PAGE_READS
