"""The bug-count collector: values against a store of known content, caching, refresh and failure."""

from __future__ import annotations

import threading
from datetime import timedelta

from prometheus_client.exposition import generate_latest

from bot.metrics.bug_counts import BugCountsCollector
from storage.errors import StoreUnavailable
from storage.model import SOURCES
from tests.support.builders import zendesk_record
from tests.support.metrics_known_store import EXPECTED, EXPECTED_NEW, TODAY, fill
from tests.support.metrics_scrape import Samples, parse_exposition
from tests.support.waiting import wait_until


class _Exposition:
    def __init__(self, collector: BugCountsCollector) -> None:
        self.collector = collector

    def collect(self):
        return self.collector.collect()


def exposed(collector: BugCountsCollector) -> Samples:
    """Through the real text format, as Prometheus would read it."""
    return parse_exposition(generate_latest(_Exposition(collector)).decode())


class CountingStore:
    """Delegates to a real store; counts calls and can be told to fail like an unreachable table."""

    def __init__(self, store) -> None:
        self.store = store
        self.counts_calls = 0
        self.failing = False

    def counts(self):
        self.counts_calls += 1
        if self.failing:
            raise StoreUnavailable("the table cannot be reached (test)")
        return self.store.counts()

    def new_per_day(self, since, until):
        return self.store.new_per_day(since, until)

    def get_meta(self, key):
        return self.store.get_meta(key)


def test_counts_match_the_known_content(store) -> None:
    collector = BugCountsCollector(fill(store), today=lambda: TODAY)
    collector.refresh()
    samples = exposed(collector)
    for name, expected in EXPECTED.items():
        assert samples[name] == expected, name


def test_new_bugs_per_day_cover_the_window_with_zeros(sqlite_store) -> None:
    collector = BugCountsCollector(fill(sqlite_store), new_bugs_days=30, today=lambda: TODAY)
    collector.refresh()
    new_bugs = exposed(collector)["bugtracker_new_bugs"]
    days = {(TODAY - timedelta(days=back)).isoformat() for back in range(30)}
    assert set(new_bugs) == {(day, source) for day in days for source in SOURCES}
    for (day, source), value in new_bugs.items():
        assert value == EXPECTED_NEW.get((source, day), 0), (source, day)


def test_nothing_is_reported_before_the_first_refresh(sqlite_store) -> None:
    samples = exposed(BugCountsCollector(fill(sqlite_store)))
    assert "bugtracker_bugs" not in samples
    assert "bugtracker_bugs_by_priority" not in samples
    assert samples["bugtracker_counts_refresh_failures_total"] == {(): 0}


def test_scrapes_read_the_snapshot_not_the_store(sqlite_store) -> None:
    counting = CountingStore(fill(sqlite_store))
    collector = BugCountsCollector(counting, today=lambda: TODAY)
    collector.refresh()
    for _ in range(5):
        exposed(collector)
    assert counting.counts_calls == 1


def test_a_failed_refresh_keeps_the_last_numbers_and_counts_the_failure(sqlite_store) -> None:
    counting = CountingStore(fill(sqlite_store))
    collector = BugCountsCollector(counting, refresh_seconds=0.02, today=lambda: TODAY).start()
    try:
        wait_until(lambda: collector.snapshot is not None)
        counting.failing = True
        wait_until(lambda: exposed(collector)["bugtracker_counts_refresh_failures_total"][()] >= 2)
        samples = exposed(collector)
    finally:
        collector.stop()
    assert samples["bugtracker_bugs"] == EXPECTED["bugtracker_bugs"]
    assert samples["bugtracker_counts_refresh_failures_total"][()] >= 2


def test_the_background_thread_picks_up_new_records(sqlite_store) -> None:
    collector = BugCountsCollector(fill(sqlite_store), refresh_seconds=0.05, today=lambda: TODAY).start()
    try:
        wait_until(lambda: collector.snapshot is not None)
        sqlite_store.upsert(zendesk_record(99, status="open", priority="Critical"))
        wait_until(lambda: exposed(collector)["bugtracker_open_bugs_by_priority"][("Critical",)] == 1)
    finally:
        collector.stop()
    assert not any(thread.name == "bug-counts-refresh" for thread in threading.enumerate())
