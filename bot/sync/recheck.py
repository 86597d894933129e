"""The rotating recheck of stored records a source's change feed cannot report: Shortcut's search never
returns deleted stories, and Shortcut deletes only archived ones (archive first, then delete), so a story
is usually done or archived before it disappears.

Every stored, live record of the source is asked about one by one (`source.recheck(ids)`: Shortcut reads
GET /stories/{id} under its self-throttle), done and archived ones included, in sweeps: the live list
newest first, then the archived list (`<meta key>:recheck` keeps the sweep's phase, list cursor, start and
count). A sweep is paced to cover every record within RECHECK_SWEEP_SECONDS (six days: each record at least
once a week, a day's margin for downtime); each scheduled run asks about the records the pace says are due,
at most RECHECK_BATCH of them, and never more than RECHECK_DAILY_BUDGET requests in a UTC day. When one
sweep ends the next starts. A 404 marks the record deleted (a copy with `deleted=true`, versioned now so that
it wins); an answer is written like any pulled record (newer-wins). `recheck_everything` runs a whole sweep
at once (`bugtracker recheck`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from storage.model import ARCHIVED_STATE, BugRecord, now_timestamp
from storage.store import BugStore
from storage.values import UpsertOutcome

log = logging.getLogger(__name__)

RECHECK_BATCH = 200  # most records asked about in one scheduled run (one request each, ~67 s at 180/min)
RECHECK_DAILY_BUDGET = 20_000  # requests a UTC day (~14 a minute): a weekly sweep of up to 120,000 stories
RECHECK_SWEEP_SECONDS = 6 * 24 * 3600  # every record within six days
PHASES = ("live", ARCHIVED_STATE)  # the live list leaves archived records out; they are walked after it
STEP = 100  # records read from the store and asked about at a time


@dataclass
class RecheckResult:
    checked: int = 0
    gone: int = 0  # answered 404: marked deleted
    updated: int = 0  # answered with a newer copy
    changed: list[BugRecord] = field(default_factory=list)  # what was written, where it lives now

    def add(self, other: RecheckResult) -> None:
        self.checked += other.checked
        self.gone += other.gone
        self.updated += other.updated
        self.changed += other.changed


def recheck_key(source: Any) -> str:
    return f"{source.meta_key}:recheck"


def new_sweep(now: float) -> dict[str, Any]:
    return {"phase": PHASES[0], "cursor": None, "started": now, "checked": 0}


def run_recheck(
    store: BugStore,
    source: Any,
    *,
    batch: int = RECHECK_BATCH,
    daily_budget: int = RECHECK_DAILY_BUDGET,
    sweep_seconds: float = RECHECK_SWEEP_SECONDS,
    clock: Callable[[], float] = time.time,
) -> RecheckResult | None:
    """One paced step of the rotation; None when the source has no recheck or nothing is due."""
    if not callable(getattr(source, "recheck", None)):
        return None
    key, now = recheck_key(source), clock()
    saved = store.get_meta(key)
    state = dict(saved) if saved and "phase" in saved else new_sweep(now)  # first run, or an older format
    day = datetime.fromtimestamp(now, UTC).date().isoformat()
    if state.get("day") != day:
        state["day"], state["spent"] = day, 0
    size = store.counts().by_source.get(source.name, 0)
    pace = min(1.0, max(0.0, now - float(state["started"])) / sweep_seconds)
    # a sweep past its time finishes whatever the count says (records deleted meanwhile lower it)
    behind = size if pace >= 1 else math.floor(size * pace) - int(state["checked"])
    due = min(behind, batch, daily_budget - int(state["spent"]))
    result = None
    if due > 0:
        result = RecheckResult()
        while due > 0:
            step = _step(store, source, state, min(due, STEP))
            if step is None:  # the sweep ended: the next one starts now, paced from zero
                state = {**new_sweep(now), "day": state["day"], "spent": state["spent"]}
                break
            result.add(step)
            due -= max(step.checked, 1)
        _log(source.name, result)
    if state != saved:
        store.put_meta(key, state)
    return result


def recheck_everything(
    store: BugStore, source: Any, progress: Callable[[RecheckResult], None] | None = None
) -> RecheckResult:
    """A whole sweep at once, for a person who knows stories were deleted; the rotation starts afresh."""
    state, result = new_sweep(time.time()), RecheckResult()
    while (step := _step(store, source, state, STEP)) is not None:
        result.add(step)
        if progress:
            progress(step)
    store.put_meta(recheck_key(source), {**new_sweep(time.time()), "spent": 0})
    _log(source.name, result)
    return result


def _step(store: BugStore, source: Any, state: dict[str, Any], limit: int) -> RecheckResult | None:
    """Ask about the next `limit` records of the sweep (moving `state` on); None once the sweep is over."""
    while True:
        phase = state["phase"]
        if phase not in PHASES:
            return None
        state_filter = ARCHIVED_STATE if phase == ARCHIVED_STATE else None
        rows = store.list_records(source=source.name, state=state_filter, limit=limit, cursor=state["cursor"])
        if rows.next_cursor is None:
            following = PHASES.index(phase) + 1
            state["phase"], state["cursor"] = (PHASES + ("done",))[following], None
        else:
            state["cursor"] = rows.next_cursor
        if rows.records:
            result = _ask(store, source, [row.record_id for row in rows.records])
            state["checked"] = int(state["checked"]) + result.checked
            state["spent"] = int(state.get("spent", 0)) + result.checked
            return result


def _ask(store: BugStore, source: Any, record_ids: list[str]) -> RecheckResult:
    result = RecheckResult(checked=len(record_ids))
    page, gone = source.recheck(record_ids)
    updates = list(page.records)
    for record_id in gone:
        stored = store.get_record(source.name, record_id)
        if stored is not None and not stored.deleted:
            updates.append(replace(stored, deleted=True, source_version=now_timestamp(), ticket_id=None))
    for failure in page.failures:
        log.warning("recheck %s: %s", source.name, failure)
    for record, outcome in zip(updates, store.upsert_many(updates) if updates else [], strict=True):
        if outcome.outcome is UpsertOutcome.UPDATED:
            result.changed.append(replace(record, ticket_id=outcome.ticket_id))
            if record.deleted and record.record_id in gone:
                result.gone += 1
            else:
                result.updated += 1
    return result


def _log(name: str, result: RecheckResult) -> None:
    if result.gone or result.updated:
        log.info(
            "recheck %s: %d checked, %d deleted upstream, %d changed",
            name,
            result.checked,
            result.gone,
            result.updated,
        )
