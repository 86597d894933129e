"""Bug counts as Prometheus gauges, read from `store.counts()` on an interval, never per scrape.

A scrape only reads the last snapshot: a refresh reads the counters the writes keep (one GetItem of the
totals, one Query of the day items, one GetItem of the last recount's result: docs/scale.md), so scrapes
every 15 s need not each trigger one. The snapshot
is refreshed by one daemon thread every `refresh_seconds`; a failed refresh keeps the previous snapshot
(stale numbers beat no numbers) and is visible through the refresh timestamp and the failure count.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from bot.worker import Worker
from storage.errors import BugTrackerError
from storage.model import PRIORITIES, SOURCES, STATE_TYPES, parse_timestamp
from storage.store import RECOUNT_META, BugStore
from storage.values import Counts

log = logging.getLogger(__name__)

DEFAULT_NEW_BUGS_DAYS = 30


@dataclass(frozen=True)
class Snapshot:
    counts: Counts
    new_per_day: dict[str, dict[str, int]]  # {source: {"YYYY-MM-DD": n}}, zero-filled over the window
    taken_at: float  # unix time
    duration: float  # seconds the refresh took
    recount: dict[str, Any] | None = None  # the last recount's result (storage.store.RECOUNT_META), if any


def _zero_filled(known: tuple[str, ...], counter: dict[str, int]) -> dict[str, int]:
    """Every known label value, 0 where absent, so a panel shows an empty bar instead of 'No data'."""
    return {**dict.fromkeys(known, 0), **counter}


def _days(today: date, days: int) -> list[str]:
    return [(today - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]


class BugCountsCollector(Worker):
    """A prometheus-client custom collector serving the last snapshot of the store's counts, refreshed
    every `refresh_seconds` by its worker (bot/worker.py) once started."""

    def __init__(
        self,
        store: BugStore,
        refresh_seconds: float = 60,
        new_bugs_days: int = DEFAULT_NEW_BUGS_DAYS,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        super().__init__("bug-counts-refresh", every=refresh_seconds)
        self.store = store
        self.refresh_seconds = refresh_seconds
        self.new_bugs_days = new_bugs_days
        self._today = today
        self._snapshot: Snapshot | None = None
        self._failures = 0

    # -- refreshing --------------------------------------------------------------------------------
    def refresh(self) -> Snapshot:
        """Read the counts now: the kept counters, the new-bugs window and the last recount's drift."""
        started = time.monotonic()
        counts = self.store.counts()
        days = _days(self._today(), self.new_bugs_days)
        per_day = self.store.new_per_day(days[0], days[-1])
        new_per_day = {source: _zero_filled(tuple(days), per_day.get(source, {})) for source in SOURCES}
        recount = self.store.get_meta(RECOUNT_META)
        snapshot = Snapshot(counts, new_per_day, time.time(), time.monotonic() - started, recount)
        self._snapshot = snapshot
        return snapshot

    def step(self) -> None:
        try:
            self.refresh()
        except BugTrackerError as exc:  # store unreachable or throttled: keep the last snapshot
            self._failures += 1
            log.warning("bug counts refresh failed (keeping the previous numbers): %s", exc)

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    # -- the collector protocol --------------------------------------------------------------------
    def describe(self) -> list[Metric]:
        # Names only, so registering never triggers a store read.
        return list(self._families(None))

    def collect(self) -> Iterator[Metric]:
        return iter(self._families(self._snapshot))

    def _families(self, snapshot: Snapshot | None) -> list[Metric]:
        failures = CounterMetricFamily(
            "bugtracker_counts_refresh_failures", "Bug count refreshes that failed (store unreachable)"
        )
        failures.add_metric([], self._failures)
        families: list[Metric] = [failures]
        # Before the first refresh only the families are named: a zero would be a lie, "No data" is not.
        for name, documentation, label, known, read in _COUNT_FAMILIES:
            family = GaugeMetricFamily(name, documentation, labels=[label] if label else [])
            if snapshot is not None:
                value = read(snapshot)
                if label:
                    for key, number in sorted(_zero_filled(known, value).items()):
                        family.add_metric([key], number)
                else:
                    family.add_metric([], value)
            families.append(family)
        new_bugs = GaugeMetricFamily(
            "bugtracker_new_bugs",
            "Bug records created per day (UTC) and source, over the last days (from the store, not scrapes)",
            labels=["source", "day"],
        )
        for source, per_day in (snapshot.new_per_day if snapshot else {}).items():
            for day, number in per_day.items():
                new_bugs.add_metric([source, day], number)
        families.append(new_bugs)
        # The last recount (daily in the bot, or `bugtracker stats --recount`): how far the kept counters
        # had drifted (sum over counters of |recounted - kept|) and when. Absent until a recount ran.
        drift = GaugeMetricFamily(
            "bugtracker_counts_drift",
            "Sum of |recounted - kept| over the bug counters at the last recount (0: the counts were exact)",
        )
        recounted_at = GaugeMetricFamily(
            "bugtracker_counts_recount_timestamp_seconds", "Unix time of the last recount of the bug counters"
        )
        recount = snapshot.recount if snapshot else None
        if recount:
            drift.add_metric([], recount.get("drift", 0))
            recounted_at.add_metric([], parse_timestamp(recount["at"]).timestamp())
        families += [drift, recounted_at]
        return families


_PRIORITY_VALUES = (*PRIORITIES, "none")

# (name, help, label or "", label values always reported, how to read the value from a snapshot)
_COUNT_FAMILIES: tuple[tuple[str, str, str, tuple[str, ...], Callable[[Snapshot], Any]], ...] = (
    ("bugtracker_counts_refresh_timestamp_seconds", "Unix time of the last counts refresh", "", (),
     lambda s: s.taken_at),
    ("bugtracker_counts_refresh_duration_seconds", "How long the last counts refresh took", "", (),
     lambda s: s.duration),
    ("bugtracker_bugs", "Live (not deleted) bug records, one per source record", "", (),
     lambda s: s.counts.total),
    ("bugtracker_bugs_deleted", "Bug records deleted upstream (kept, not counted as live)", "", (),
     lambda s: s.counts.deleted),
    ("bugtracker_bugs_by_priority", "Live bug records by priority ('none': no priority)", "priority",
     _PRIORITY_VALUES, lambda s: s.counts.by_priority),
    ("bugtracker_open_bugs_by_priority", "Open (state type not done) bug records by priority", "priority",
     _PRIORITY_VALUES, lambda s: s.counts.open_by_priority),
    ("bugtracker_bugs_by_state", "Live bug records by state name (Zendesk status, Shortcut workflow state)",
     "state", (), lambda s: s.counts.by_state),
    ("bugtracker_bugs_by_state_type", "Live bug records by state type ('none': no state)", "state_type",
     (*STATE_TYPES, "none"), lambda s: s.counts.by_state_type),
    ("bugtracker_bugs_by_source", "Live bug records by source system", "source", SOURCES,
     lambda s: s.counts.by_source),
    ("bugtracker_open_bugs_by_source", "Open bug records by source system", "source", SOURCES,
     lambda s: s.counts.open_by_source),
    ("bugtracker_slack_reports", "Live Slack reports, linked to a ticket or not", "link",
     ("linked", "unlinked"),
     lambda s: {"linked": s.counts.slack_linked, "unlinked": s.counts.slack_unlinked}),
)  # fmt: skip
