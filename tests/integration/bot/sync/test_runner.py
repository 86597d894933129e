"""The sync runner over a real store (SQLite) and the fakes over HTTP: counts, change-only writes,
checkpoints, auto-links, leases and metrics."""

from __future__ import annotations

import logging

import pytest

from adapters.pull import PulledPage, PullStats
from bot.metrics import registry
from bot.sync.runner import run_sync
from tests.fakes.shortcut import FakeShortcut, shortcut_pull
from tests.fakes.zendesk import FakeZendesk, zendesk_pull


@pytest.fixture
def store(sqlite_store):
    """The runner's unit tests use the embedded store; tests/integration/bot/sync runs both stores."""
    return sqlite_store


@pytest.fixture
def zendesk(monkeypatch):
    with FakeZendesk() as fake:
        fake.add_tickets(23)
        yield fake, zendesk_pull(fake, monkeypatch, per_page=10)


@pytest.fixture
def shortcut():
    with FakeShortcut() as fake:
        yield fake


def _metric(name, **labels):
    return registry.REGISTRY.get_sample_value(name, labels) or 0.0


def test_backfill_then_resync_writes_only_what_changed(store, zendesk):
    fake, pull = zendesk
    first = run_sync(store, pull)
    assert (first.fetched, first.inserted, first.updated, first.unchanged, first.failed) == (23, 23, 0, 0, 0)
    # 3 export pages, each with its users (include=users on every page: no users/show_many)
    # + 1 GET custom_statuses (every ticket names its status; listed once)
    assert first.error is None and first.requests == 4
    saved = store.get_meta("sync:zendesk")
    idle = run_sync(store, pull)
    assert fake.requests[-1][2]["cursor"] == [saved["cursor"]]
    assert (idle.fetched, idle.inserted, idle.updated, idle.requests) == (0, 0, 0, 1)
    fake.touch(5, status="solved")
    fake.touch(6)  # a new updated_at, nothing else: the record still changes (updated_at is stored)
    changed = run_sync(store, pull)
    assert (changed.fetched, changed.updated, changed.inserted) == (2, 2, 0)
    assert store.get_record("zendesk", "5").state == "solved"


def test_checkpoint_is_saved_after_each_page_so_a_failure_resumes(store, zendesk):
    fake, pull = zendesk

    def zendesk_goes_away_after_the_first_page(page, summary):
        if summary.inserted == 10:
            fake.inject(503, times=20)  # every retry of the next page fails

    # pages of 10, 10, 3; resuming from the saved cursor keeps per_page (each page is asked for by us)
    failed = run_sync(store, pull, progress=zendesk_goes_away_after_the_first_page)
    assert failed.error and "HTTP 503" in failed.error and failed.inserted == 10
    saved = store.get_meta("sync:zendesk")
    fake.clear_faults()
    asked = len(fake.requests)
    resumed = run_sync(store, pull)
    assert fake.requests[asked][2]["cursor"] == [saved["cursor"]]
    assert (resumed.fetched, resumed.inserted) == (13, 13)
    assert len(store.list_records(source="zendesk", limit=100).records) == 23


def test_failed_run_updates_failure_metrics_and_keeps_last_success(store, zendesk):
    fake, pull = zendesk
    run_sync(store, pull)
    success = _metric("bugtracker_sync_last_success_timestamp_seconds", source="zendesk")
    failures = _metric("bugtracker_sync_failures_total", source="zendesk")
    fake.inject(503, times=20)
    summary = run_sync(store, pull)
    assert summary.error and "HTTP 503" in summary.error
    assert _metric("bugtracker_sync_failures_total", source="zendesk") == failures + 1
    assert _metric("bugtracker_sync_last_success_timestamp_seconds", source="zendesk") == success
    assert store.acquire_lease("sync:zendesk", "someone-else", 10)  # released even after a failure


def test_records_metrics_count_outcomes(store, zendesk):
    _, pull = zendesk
    before = _metric("bugtracker_sync_records_total", source="zendesk", outcome="inserted")
    run_sync(store, pull)
    assert _metric("bugtracker_sync_records_total", source="zendesk", outcome="inserted") == before + 23
    assert _metric("bugtracker_sync_duration_seconds", source="zendesk") > 0


def test_a_held_lease_means_skip(store, zendesk, caplog):
    fake, pull = zendesk
    assert store.acquire_lease("sync:zendesk", "other-process", 60)
    with caplog.at_level(logging.INFO):
        summary = run_sync(store, pull)
    assert summary.skipped and "skipped" in summary.line()
    assert fake.requests == [] and store.get_meta("sync:zendesk") is None


def test_unmappable_items_count_as_failed_and_the_rest_is_stored(store, zendesk, caplog):
    fake, pull = zendesk
    fake.tickets[7]["created_at"] = None
    with caplog.at_level(logging.WARNING):
        summary = run_sync(store, pull)
    assert (summary.fetched, summary.inserted, summary.failed) == (23, 22, 1)
    assert "Zendesk ticket 7: created_at is missing" in caplog.text


def test_stories_naming_a_zendesk_ticket_are_linked_to_it(store, shortcut, monkeypatch):
    with FakeZendesk() as zd:
        zd.add_tickets(3)
        run_sync(store, zendesk_pull(zd, monkeypatch))
    shortcut.add_story(
        10,
        external_links=[
            "https://acme.zendesk.com/agent/tickets/3",
            "https://acme.zendesk.com/agent/tickets/2",
        ],
    )
    shortcut.add_story(11)
    summary = run_sync(store, shortcut_pull(shortcut))
    assert (summary.inserted, summary.linked) == (2, 1)
    assert store.resolve("SC-10") == ("SC-10", "ZD-2")
    view = store.show("ZD-2")
    assert {r.source_record for r in view.records} == {"zendesk#2", "shortcut#10"}
    story = next(r for r in view.records if r.source_system == "shortcut")
    assert story.attributes["zendesk_ticket_ids"] == [2, 3]
    assert store.resolve("SC-11") == ("SC-11",)
    # a person's unlink holds while the story does not change
    store.unlink("SC-10", actor="pm")
    again = run_sync(store, shortcut_pull(shortcut), full=True)
    assert again.linked == 0 and store.resolve("SC-10") == ("SC-10",)


class _FlakyLinkSource:
    name, meta_key = "shortcut", "sync:shortcut"
    stats = PullStats()

    def __init__(self, record):
        self.record = record

    def pull(self, saved, full=False):
        yield PulledPage(
            records=[self.record], links={"SC-1": "SC-1"}, checkpoint={"watermark": "2025-01-01"}
        )


def test_a_refused_auto_link_is_logged_and_the_run_goes_on(store, caplog):
    from adapters.shortcut import story_to_record
    from tests.fakes.shortcut import STATES

    record = story_to_record(FakeShortcut().add_story(1), {s: {"name": n, "type": t} for s, n, t in STATES})
    with caplog.at_level(logging.WARNING):
        summary = run_sync(store, _FlakyLinkSource(record))
    assert summary.error is None and summary.inserted == 1 and summary.linked == 0
    assert "could not link SC-1" in caplog.text
    assert store.get_meta("sync:shortcut") == {"watermark": "2025-01-01"}


def test_a_rate_limited_backfill_continues_without_a_failure_and_finishes_on_the_next_run(store, monkeypatch):
    # Zendesk's export limit: 2 requests a minute here; the run may wait 1 s, so page 3 stops it
    with FakeZendesk(rate_limits={"export": (2, 60.0)}) as fake:
        fake.add_tickets(25)
        pull = zendesk_pull(fake, monkeypatch, per_page=10, budget=1)
        failures = _metric("bugtracker_sync_failures_total", source="zendesk")
        first = run_sync(store, pull)
        assert first.error is None and first.continues and first.backfill
        assert (first.fetched, first.inserted) == (20, 20)
        assert first.line().endswith("; backfill continues: 20 of about 25")  # about: GET tickets/count
        assert store.get_meta("sync:zendesk")["backfill"] == {"fetched": 20, "about": 25}
        fake.limiters.clear()  # the minute has passed
        second = run_sync(store, pull)
        assert second.error is None and not second.continues and second.inserted == 5
        assert "backfill" not in store.get_meta("sync:zendesk")  # over: the next runs are incremental
        assert _metric("bugtracker_sync_failures_total", source="zendesk") == failures
        assert len(store.list_records(source="zendesk", limit=100).records) == 25


def test_a_rate_limit_before_any_progress_is_a_failure(store, monkeypatch):
    with FakeZendesk() as fake:
        fake.add_tickets(3)
        fake.inject(429, headers={"Retry-After": "30"})
        summary = run_sync(store, zendesk_pull(fake, monkeypatch, budget=1))
    assert summary.error and "rate limit" in summary.error and not summary.continues


def test_a_day_with_2500_changed_stories_stores_all_2500(store, shortcut):
    from datetime import timedelta

    for story_id in range(1, 2501):
        shortcut.add_story(story_id, step=timedelta(seconds=10))  # one workspace day
    summary = run_sync(store, shortcut_pull(shortcut))
    assert (summary.inserted, summary.failed, summary.error) == (2500, 0, None)
    assert store.counts().by_source["shortcut"] == 2500


def test_a_merged_ticket_is_merged_and_its_reports_follow_the_ticket_it_went_into(store, zendesk):
    from tests.support.builders import slack_record

    fake, pull = zendesk
    run_sync(store, pull)
    report = slack_record(1, text="Checkout fails")
    store.upsert(report)
    store.link(report.home_id, "ZD-3", "U0LINKER")
    fake.merge(3, 5)  # an agent merges ZD-3 into ZD-5: closed, tagged closed_by_merge, audited
    summary = run_sync(store, pull)
    merged = store.get_record("zendesk", "3")
    assert (merged.state, merged.state_type) == ("merged", "done")
    assert merged.attributes["merged_into"] == "ZD-5"  # what its card says: merged into ZD-5
    assert summary.linked == 1 and store.resolve("ZD-3") == ("ZD-3", "ZD-5")
    assert store.resolve(report.home_id)[-1] == "ZD-5"  # the report lives where the work went
    assert fake.count("/tickets/3/audits.json") == 1
