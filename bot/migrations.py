"""One-off data migrations run by `bugtracker init` / `bugtracker migrate` and once at the bot's start."""

from __future__ import annotations

from collections.abc import Callable

from adapters.slack_message import erased, is_erased
from storage.errors import BugTrackerError
from storage.store import BugStore


def erase_deleted_reports(store: BugStore, progress: Callable[[str], None] = print) -> list[str]:
    """`bugtracker migrate`: erase the words of Slack reports deleted before deletion erased them (older
    versions kept the text of a deleted message). Idempotent; returns the ids erased."""
    done = []
    for row in store.scan_records():
        if row.source_system != "slack" or not row.deleted or is_erased(row):
            continue
        for _ in range(8):  # a concurrent write: read it again
            stored = store.get_record("slack", row.record_id)
            if stored is None or is_erased(stored):
                break
            if store.erase(stored, erased(stored)):
                done.append(row.home_id)
                break
        else:
            raise BugTrackerError(f"{row.home_id} kept changing while it was erased; run migrate again")
    progress(f"erased the text of {len(done)} Slack report(s) deleted in Slack before this version")
    return done


CANONICAL_IDS_KEY = "migration:canonical-ids"


def canonicalize_ids(store: BugStore, actor: str, *, once: bool = False) -> list[tuple[str, str, int]]:
    """Move records an older version stored under a non-canonical id (`ZD-0042`) to the canonical one.

    `once`: skip when a previous run recorded it as done (the bot does this at start-up, so the one-off
    migration happens without an operator; `bugtracker init` always looks again)."""
    if once and store.get_meta(CANONICAL_IDS_KEY):
        return []
    moved = store.canonicalize_ids(actor=actor)
    store.put_meta(CANONICAL_IDS_KEY, {"done": True, "moved": [list(entry) for entry in moved]})
    return moved
