"""Scheduled pulls inside the bot process: APScheduler runs each configured source every
SYNC_INTERVAL_SECONDS in a background thread, the first run right after start-up.

A run that fails is logged (run_sync logs expected failures; APScheduler logs anything else with its
traceback) and the job simply runs again at the next interval: the bot keeps answering Slack meanwhile.
A run that stopped on the rate limit after making progress (a backfill) is carried on at once: the job's
next run is moved to a second later, so a backfill goes at the pace the upstream's limit sets.
One job per source, never two instances of it at once in this process; the store lease keeps other
processes out. A daily job recounts the bug counters (bot/metrics/recount.py).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from adapters.pull import SyncSource
from bot.config import Config
from bot.metrics.recount import RECOUNT_HOUR, RECOUNT_LEASE, RECOUNT_MINUTE, run_recount
from bot.sync.changes import ChangeNotifier
from bot.sync.runner import SyncSummary, run_sync
from storage.store import BugStore

log = logging.getLogger(__name__)

CONTINUE_AFTER_SECONDS = 1.0  # a run that continues a backfill starts this long after the last one ended


class SyncScheduler:
    def __init__(
        self, scheduler: BackgroundScheduler, sources: list[SyncSource], interval: float = 0
    ) -> None:
        self.scheduler = scheduler
        self.sources = sources
        self.interval = interval

    def start(self) -> SyncScheduler:
        self.scheduler.start()
        if self.sources:
            names = ", ".join(source.name for source in self.sources)
            log.info("sync scheduled every %ss: %s", self.interval, names)
        return self

    def shutdown(self) -> None:
        # Do not wait for a pull in progress: its lease expires and the next run resumes from its cursor.
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def stop(self, timeout: float = 5.0) -> bool:
        """The service rule of bot/worker.py; a pull in progress is not waited for (see shutdown)."""
        self.shutdown()
        return True


def start_scheduler(
    config: Config,
    store: BugStore,
    sources: list[SyncSource],
    first_run_delay: float = 0.0,
    notifier: ChangeNotifier | None = None,
) -> SyncScheduler:
    """`build_sync_scheduler`, started."""
    return build_sync_scheduler(config, store, sources, first_run_delay, notifier).start()


def build_sync_scheduler(
    config: Config,
    store: BugStore,
    sources: list[SyncSource],
    first_run_delay: float = 0.0,
    notifier: ChangeNotifier | None = None,
) -> SyncScheduler:
    """`notifier` (bot/sync/changes.py) hears of what each run changed."""
    interval = config.sync.interval_seconds
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": interval},
    )
    first_run = datetime.fromtimestamp(datetime.now(UTC).timestamp() + first_run_delay, UTC)
    held_by: dict[str, str | None] = {}
    for source in sources:
        scheduler.add_job(
            _run,
            "interval",
            seconds=interval,
            args=[store, source, config.sync.lease_seconds, held_by, notifier, scheduler],
            id=f"sync:{source.name}",
            name=f"sync {source.name}",
            next_run_time=first_run,
        )
    # The daily recount of the bug counters (bot/metrics/recount.py), one instance a day.
    scheduler.add_job(
        run_recount,
        "cron",
        hour=RECOUNT_HOUR,
        minute=RECOUNT_MINUTE,
        args=[store],
        id=RECOUNT_LEASE,
        name="recount the bug counters",
    )
    return SyncScheduler(scheduler, sources, interval)


def _run(
    store: BugStore,
    source: SyncSource,
    lease_seconds: float,
    held_by: dict[str, str | None],
    notifier: ChangeNotifier | None = None,
    scheduler: BackgroundScheduler | None = None,
) -> SyncSummary:
    """One scheduled pull. A lease held elsewhere (a `bugtracker sync`, another bot) is said at INFO once
    per holder, not at every interval; the next run that pulls says nothing about it."""
    summary = run_sync(store, source, lease_ttl=lease_seconds, notifier=notifier)
    if summary.continues and scheduler is not None and scheduler.running:
        soon = datetime.now(UTC) + timedelta(seconds=CONTINUE_AFTER_SECONDS)
        scheduler.modify_job(f"sync:{source.name}", next_run_time=soon)
    if not summary.skipped:
        held_by.pop(source.name, None)
    elif source.name not in held_by or held_by[source.name] != summary.holder:
        held_by[source.name] = summary.holder  # the holder last reported, while runs are skipped
        log.info("sync %s; scheduled runs skip quietly until it is free", summary.line())
    return summary
