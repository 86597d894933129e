"""Flow times: how long a report (or Zendesk ticket) waits to be linked under a bug, and how long from that
link until the bug's Shortcut story is done. Two Prometheus histograms by priority and source, and the samples
kept per UTC day in the store (meta `flow:<YYYY-MM-DD>`, at most SAMPLES_KEPT a day and kind) for
`bugtracker stats --flow` (medians and 90th percentiles over the last 30 days).

- report -> link: told by the store wrapper (storage/observed.py `linked`) when a record comes to live under
  another ticket id (a link moved it, or a tagged report was stored there): now - the record's creation.
- link -> done: the sync tells `records_changed` (a ChangeNotifier) of every story it wrote; a story turning
  done (its kept state `flow:state:<SC-id>`) gives one sample per report and ticket under its bug: now - the
  time of the link that brought it there (its audit entry), or its creation if it was stored there.
Samples are buffered in memory and appended to the day's item once a minute by the FlowLog's worker (and when
it stops), so a link costs no store request of its own; read-modify-write: two instances appending in the same
instant may drop a minute's samples of one of them.
"""

from __future__ import annotations

import logging
import statistics
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.metrics.registry import FLOW_TO_DONE, FLOW_TO_LINK
from bot.worker import Worker
from storage.errors import BugTrackerError
from storage.model import ARCHIVED_STATE, BugRecord, format_timestamp, parse_timestamp
from storage.store import BugStore

log = logging.getLogger(__name__)

SAMPLES_KEPT = 2000
KINDS = ("link", "done")
COUNTED = ("slack", "zendesk")


@dataclass(frozen=True)
class FlowSummary:
    kind: str
    group: str  # "all" or a priority
    count: int
    median: float
    p90: float


FLUSH_SECONDS = 60.0


class FlowLog(Worker):
    def __init__(self, store: BugStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__("flow-times", every=FLUSH_SECONDS, wait_first=True)
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], list[list[object]]] = {}  # (day, kind) -> samples

    def step(self) -> None:
        try:
            self.flush()
        except BugTrackerError as exc:
            log.warning("flow times not kept yet: %s", exc)

    def finished(self) -> None:
        self.step()

    def flush(self) -> None:
        """Append the buffered samples to their days' items in the store."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for day in sorted({day for day, _ in pending}):
            key = f"flow:{day}"
            kept = self.store.get_meta(key) or {}
            for kind in KINDS:
                kept[kind] = [*(kept.get(kind) or []), *pending.get((day, kind), [])][-SAMPLES_KEPT:]
            self.store.put_meta(key, kept)

    # -- report -> link ------------------------------------------------------------------------------
    def linked(self, records: list[BugRecord]) -> None:
        now = self.clock()
        samples = []
        for record in records:
            if record.source_system not in COUNTED or record.deleted:
                continue
            seconds = max(0.0, (now - parse_timestamp(record.created_at)).total_seconds())
            FLOW_TO_LINK.labels(record.priority or "none", record.source_system).observe(seconds)
            samples.append([round(seconds, 1), record.priority or "none", record.source_system])
        self._keep("link", samples, now)

    # -- link -> done: the ChangeNotifier port ---------------------------------------------------------
    def records_changed(self, records: list[BugRecord]) -> None:
        for story in records:
            if story.source_system != "shortcut":
                continue
            key = f"flow:state:{story.home_id}"
            done = story.deleted or story.state_type == "done" or story.state == ARCHIVED_STATE
            if done == bool((self.store.get_meta(key) or {}).get("done")):
                continue
            self.store.put_meta(key, {"done": done})
            if done:
                try:
                    self._done(story)
                except BugTrackerError as exc:
                    log.warning("flow time of %s not kept: %s", story.home_id, exc)

    def pull_finished(self, source: str) -> None:
        pass

    def _done(self, story: BugRecord) -> None:
        now = self.clock()
        view = self.store.show(story.home_id)
        linked_at = {
            entry.from_id: entry.at for entry in view.audit if entry.action == "link"
        }  # the latest link of each id (the audit is in time order)
        samples = []
        for record in view.records:
            if record.source_system not in COUNTED or record.deleted:
                continue
            since = linked_at.get(record.home_id, record.created_at)
            seconds = max(0.0, (now - parse_timestamp(since)).total_seconds())
            FLOW_TO_DONE.labels(record.priority or "none", record.source_system).observe(seconds)
            samples.append([round(seconds, 1), record.priority or "none", record.source_system])
        self._keep("done", samples, now)

    def _keep(self, kind: str, samples: list[list[object]], now: datetime) -> None:
        if samples:
            with self._lock:
                self._pending.setdefault((format_timestamp(now)[:10], kind), []).extend(samples)


def summarise(store: BugStore, days: int = 30, now: datetime | None = None) -> list[FlowSummary]:
    """Medians and 90th percentiles of each kind over the last `days` UTC days, overall and by priority."""
    today = (now or datetime.now(UTC)).date()
    samples: dict[str, list[tuple[float, str]]] = {kind: [] for kind in KINDS}
    for back in range(days):
        kept = store.get_meta(f"flow:{(today - timedelta(days=back)).isoformat()}") or {}
        for kind in KINDS:
            rows = kept.get(kind) or []
            samples[kind] += [(float(seconds), str(priority)) for seconds, priority, _ in rows]
    found = []
    for kind in KINDS:
        groups = {"all": [seconds for seconds, _ in samples[kind]]}
        for seconds, priority in samples[kind]:
            groups.setdefault(priority, []).append(seconds)
        for group, values in groups.items():
            if values:
                found.append(FlowSummary(kind, group, len(values), statistics.median(values), _p90(values)))
    return found


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(0.9 * len(ordered) + 0.5)) - 1))]


def duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"
