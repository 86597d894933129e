"""The daily recount job and the drift gauge: one instance a day recounts, the drift it found is exported."""

from __future__ import annotations

from prometheus_client.exposition import generate_latest

from bot.metrics.bug_counts import BugCountsCollector
from bot.metrics.recount import run_recount
from tests.support.builders import zendesk_record
from tests.support.metrics_known_store import TODAY
from tests.support.metrics_scrape import parse_exposition


class _Exposition:
    def __init__(self, collector: BugCountsCollector) -> None:
        self.collector = collector

    def collect(self):
        return self.collector.collect()


def _samples(collector: BugCountsCollector):
    return parse_exposition(generate_latest(_Exposition(collector)).decode())


def test_one_instance_recounts_a_day_and_the_drift_is_exported(store):
    store.upsert_many([zendesk_record(n) for n in range(1, 4)])
    store.adjust_counters({"total": 4, "state:open": -1})  # drift, as a killed batch leaves
    collector = BugCountsCollector(store, today=lambda: TODAY)
    collector.refresh()
    before = _samples(collector)
    assert "bugtracker_counts_drift" not in before  # no recount yet: no number rather than a false 0
    assert before["bugtracker_bugs"][()] == 7

    assert run_recount(store, owner="bot-1") == {"state:open": 1, "total": -4}
    assert run_recount(store, owner="bot-2") is None  # another instance already recounted today

    collector.refresh()
    after = _samples(collector)
    assert after["bugtracker_counts_drift"][()] == 5 and after["bugtracker_bugs"][()] == 3
    assert after["bugtracker_counts_recount_timestamp_seconds"][()] > 0
