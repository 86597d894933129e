"""How far a backfill has come: the checkpoint's `backfill` entry, {"fetched", "about"}, kept from the first
pull (or --full) until the pull reaches the end; and the ETA the upstream's rate limit allows.

"About" is what the API says: Shortcut's search `total` on the first page, Zendesk's GET tickets/count (asked
once, when a run stops on the rate limit or `--until-done` starts; every live ticket, so with SYNC_START an
upper bound).
"""

from __future__ import annotations

import logging
from typing import Any

from storage.errors import BugTrackerError
from storage.store import BugStore

log = logging.getLogger(__name__)


def backfill_state(saved: dict[str, Any] | None, full: bool) -> dict[str, Any] | None:
    """{"fetched", "about"} while a backfill is under way (first pull, --full, or one that continues)."""
    if full or saved is None:
        return {"fetched": 0, "about": None}
    entry = saved.get("backfill")
    if isinstance(entry, dict):
        return {"fetched": int(entry.get("fetched") or 0), "about": entry.get("about")}
    return None


def estimate_size(store: BugStore, source: Any, saved: dict[str, Any] | None) -> int | None:
    """About how many items the backfill brings, asked of the source once (kept in the checkpoint)."""
    estimate = getattr(source, "estimate_total", None)
    if not callable(estimate):
        return None
    try:
        about = estimate()
    except BugTrackerError as exc:
        log.info("sync %s: no estimate of the backfill's size: %s", source.name, exc)
        return None
    if about and saved is not None and isinstance(saved.get("backfill"), dict):
        store.put_meta(source.meta_key, {**saved, "backfill": {**saved["backfill"], "about": about}})
    return about


def seconds_at_limit(source: Any, remaining: int) -> float | None:
    """The least time the upstream's rate limit allows for `remaining` more items (None: no known limit)."""
    per_minute = getattr(source, "items_per_minute_at_limit", None)
    if not per_minute or remaining <= 0:
        return 0.0 if per_minute else None
    return 60.0 * remaining / per_minute
