"""Deleted is terminal: a Slack report deleted (in Slack, found gone by the sweep, or by `bugtracker delete` /
`/bug delete`) is first recorded durably as a tombstone keyed by its channel and ts, before anything else
is done about it. An edit of that message (late, redelivered, read back by the sweep, or after `bugtracker
delete`) looks for it before writing and erases instead (bot/slack/intake.py). An insert needs no such read:
a deletion that finds nothing stored stores the erased copy, dated by the deletion, so the insert is older
and newer-wins writes nothing.

The tombstone is a store meta entry (both stores: SQLite's meta table, DynamoDB's meta partition, read
consistently) holding only when the deletion was recorded."""

from __future__ import annotations

from storage.model import now_timestamp
from storage.store import BugStore


def tombstone_key(channel: str, ts: str) -> str:
    return f"deleted:{channel}:{ts}"


def record_deletion(store: BugStore, channel: str, ts: str) -> None:
    """Write the tombstone (idempotent). Store errors propagate: the deletion is retried, never dropped."""
    store.put_meta(tombstone_key(channel, ts), {"recorded_at": now_timestamp()})


def is_deleted(store: BugStore, channel: str | None, ts: str) -> bool:
    return bool(channel) and store.get_meta(tombstone_key(str(channel), ts)) is not None
