"""The daily recount of the bug counters, run by the bot's scheduler (bot/sync/scheduler.py).

Counters are kept by every write (storage/counters.py); a process killed between a batch write and its
counter update leaves drift. Once a day one bot instance counts every record again and corrects them
(`BugStore.recount`, like `bugtracker stats --recount`); the result is kept in the store, and the metrics
collector exports it as `bugtracker_counts_drift`. A store lease held for most of a day keeps the other
instances of the bot from recounting the same day.
"""

from __future__ import annotations

import logging
import os
import socket

from storage.errors import BugTrackerError
from storage.store import BugStore

log = logging.getLogger(__name__)

RECOUNT_LEASE = "counts:recount"
RECOUNT_LEASE_SECONDS = 20 * 3600  # held, not released: one recount a day across every instance
RECOUNT_HOUR, RECOUNT_MINUTE = 3, 17  # UTC, a quiet hour


def run_recount(store: BugStore, owner: str | None = None) -> dict[str, int] | None:
    """Recount unless another instance did today; the drift found, or None when skipped or failed."""
    owner = owner or f"{socket.gethostname()}:{os.getpid()}"
    try:
        if not store.acquire_lease(RECOUNT_LEASE, owner, RECOUNT_LEASE_SECONDS):
            log.info("counters recount skipped: another instance recounted within the last day")
            return None
        drift = store.recount()
    except BugTrackerError as exc:
        log.warning("counters recount failed (the next one corrects): %s", exc)
        return None
    if drift:
        log.warning("counters recount corrected %d counter(s): %s", len(drift), drift)
    else:
        log.info("counters recount: every counter was exact")
    return drift
