"""The scheduler in the bot process: each configured source pulled every interval; failures retried."""

from __future__ import annotations

import logging
import threading

from adapters.pull import PulledPage, PullStats, RateLimited, UpstreamError
from bot.bootstrap import build_sources
from bot.config import load_config
from bot.sync.scheduler import start_scheduler


class _CountingSource:
    name, meta_key = "zendesk", "sync:zendesk"

    def __init__(self, fail_first: bool) -> None:
        self.stats = PullStats()
        self.runs = 0
        self.fail_first = fail_first
        self.second_run = threading.Event()

    def pull(self, saved, full=False):
        self.runs += 1
        if self.runs >= 2:
            self.second_run.set()
        if self.fail_first and self.runs == 1:
            raise UpstreamError("Zendesk answered HTTP 503 to the incremental export")
        yield PulledPage(records=[], checkpoint={"cursor": f"c{self.runs}", "start_time": 0})


def test_a_failed_run_is_logged_and_retried_next_interval(sqlite_store, caplog, monkeypatch):
    config = load_config({"SYNC_INTERVAL_SECONDS": "10"})
    source = _CountingSource(fail_first=True)
    with caplog.at_level(logging.INFO):
        scheduler = start_scheduler(config, sqlite_store, sources=[source])
        # the real minimum interval is 10 s: speed it up for the test
        scheduler.scheduler.reschedule_job("sync:zendesk", trigger="interval", seconds=1)
        try:
            assert source.second_run.wait(10), "the failed run was not retried"
        finally:
            scheduler.shutdown()
    assert "sync zendesk stopped: Zendesk answered HTTP 503" in caplog.text
    assert sqlite_store.get_meta("sync:zendesk")["cursor"].startswith("c")


def test_sources_without_credentials_are_skipped_with_one_line(caplog):
    with caplog.at_level(logging.INFO):
        sources = build_sources(load_config({"SHORTCUT_API_TOKEN": "sc-test-token"}))
    assert [source.name for source in sources] == ["shortcut"]
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert skipped == [
        "sync zendesk skipped: ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and ZENDESK_API_TOKEN are not set"
    ]


def test_scheduler_with_nothing_configured_starts_and_stops(sqlite_store):
    scheduler = start_scheduler(load_config({}), sqlite_store, sources=[])
    # no pull to schedule: only the daily recount of the bug counters
    assert scheduler.sources == [] and [job.id for job in scheduler.scheduler.get_jobs()] == [
        "counts:recount"
    ]
    scheduler.shutdown()


class _BackfillSource(_CountingSource):
    """Stops on the rate limit after one page, then finishes."""

    def pull(self, saved, full=False):
        self.runs += 1
        yield PulledPage(records=[], checkpoint={"cursor": f"c{self.runs}", "start_time": 0})
        if self.runs == 1:
            raise RateLimited("Zendesk rate limit: more than 300s spent waiting")
        self.second_run.set()


def test_a_backfill_that_continues_runs_again_at_once_not_an_interval_later(sqlite_store):
    config = load_config({"SYNC_INTERVAL_SECONDS": "3600"})
    source = _BackfillSource(fail_first=False)
    scheduler = start_scheduler(config, sqlite_store, sources=[source])
    try:
        assert source.second_run.wait(10), "the backfill waited for the next interval"
    finally:
        scheduler.shutdown()
    assert source.runs == 2 and "backfill" not in sqlite_store.get_meta("sync:zendesk")
