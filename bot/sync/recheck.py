"""The bounded recheck of stored records a source's change feed cannot report (Shortcut's search never
returns deleted stories, nor archived ones unless asked).

Once a day at most (the first a day after the first pull), a sweep walks the stored, live, not-done records
of the source, RECHECK_BATCH a run (newest first, the list cursor saved under `<meta key>:recheck`), and
asks the source about each one (`source.recheck(ids)`: Shortcut reads GET /stories/{id} under its
self-throttle). A story that answers
404 is marked deleted (a copy with `deleted=true`, versioned now so that it wins); one that answers is
written like any pulled record (newer-wins: an archived story becomes `archived` / done).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from storage.model import BugRecord, now_timestamp
from storage.store import BugStore, UpsertOutcome

log = logging.getLogger(__name__)

RECHECK_BATCH = 100  # stored records looked at per run (at most one request each)
RECHECK_EVERY_SECONDS = 24 * 3600  # a finished sweep starts again after this


@dataclass
class RecheckResult:
    checked: int = 0
    gone: int = 0  # answered 404: marked deleted
    updated: int = 0  # answered with a newer copy
    changed: list[BugRecord] = field(default_factory=list)  # what was written, where it lives now


def recheck_key(source: Any) -> str:
    return f"{source.meta_key}:recheck"


def run_recheck(
    store: BugStore,
    source: Any,
    *,
    batch: int = RECHECK_BATCH,
    every: float = RECHECK_EVERY_SECONDS,
    clock: Callable[[], float] = time.time,
) -> RecheckResult | None:
    """One bounded step of the sweep; None when the source has no recheck or the sweep is not due."""
    if not callable(getattr(source, "recheck", None)):
        return None
    key, now = recheck_key(source), clock()
    state = store.get_meta(key)
    if state is None:  # the first pull just read everything: the first sweep is due a day later
        store.put_meta(key, {"cursor": None, "finished": now})
        return None
    cursor = state.get("cursor")
    if cursor is None and now - float(state.get("finished", 0)) < every:
        return None
    rows = store.list_records(source=source.name, limit=batch, cursor=cursor)
    candidates = [row.record_id for row in rows.records if row.state_type != "done"]
    result = RecheckResult(checked=len(candidates))
    page, gone = source.recheck(candidates) if candidates else (None, [])
    updates = list(page.records) if page else []
    for record_id in gone:
        stored = store.get_record(source.name, record_id)
        if stored is not None and not stored.deleted:
            updates.append(replace(stored, deleted=True, source_version=now_timestamp(), ticket_id=None))
    for failure in page.failures if page else []:
        log.warning("recheck %s: %s", source.name, failure)
    for record, outcome in zip(updates, store.upsert_many(updates) if updates else [], strict=True):
        if outcome.outcome is UpsertOutcome.UPDATED:
            result.changed.append(replace(record, ticket_id=outcome.ticket_id))
            if record.deleted and record.record_id in gone:
                result.gone += 1
            else:
                result.updated += 1
    finished = now if rows.next_cursor is None else state.get("finished", 0)
    store.put_meta(key, {"cursor": rows.next_cursor, "finished": finished})
    if result.gone or result.updated:
        log.info(
            "recheck %s: %d checked, %d deleted upstream, %d changed",
            source.name,
            result.checked,
            result.gone,
            result.updated,
        )
    return result
