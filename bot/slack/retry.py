"""Events whose store write failed, retried with backoff until the store takes them.

Slack has been acked (Socket Mode acks before the listener runs), so an event whose write failed exists
only here and in the channel's history. The queue retries it (1 s, 2 s, 4 s ... at most 30 s apart, with
jitter), forever: the store coming back is the normal end. A process killed meanwhile loses the queue but
not the report: the channel's low-water mark never passed it, and the sweep reads it back from the history.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.slack.intake import STORE_FAILURES
from bot.worker import Worker

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MAX_DELAY = 30.0

Handler = Callable[[dict[str, Any], str], None]  # (event, channel): route, store and answer one event


@dataclass(order=True)
class _Entry:
    due: float
    key: tuple[str, str] = field(compare=False)
    event: dict[str, Any] = field(compare=False)
    channel: str = field(compare=False)
    handle: Handler = field(compare=False)
    attempts: int = field(default=1, compare=False)


def event_key(event: dict[str, Any], channel: str) -> tuple[str, str]:
    """One entry per message, edit and deletion: (channel, ts[/edited ts | /deleted]). A deletion is keyed
    apart from its message's insert, so that neither replaces the other while both wait."""
    if event.get("subtype") == "message_deleted" or (event.get("deleted_ts") and not event.get("message")):
        return channel, f"{event.get('deleted_ts') or ''}/deleted"
    message = event.get("message") or {}
    ts = message.get("ts") or event.get("ts") or ""
    edited = (message.get("edited") or {}).get("ts")
    return channel, f"{ts}/{edited}" if edited else ts


class RetryQueue(Worker):
    """Its worker (bot/worker.py) retries what is due; the first failure starts it. Each entry carries what
    retries it (the delivery), so the queue can exist before the delivery and the intake's store health
    that tell it of failures and recoveries (bot/bootstrap.py builds it first)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__("slack-intake-retry")
        self.clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._changed = threading.Lock()

    def defer(self, event: dict[str, Any], channel: str, error: Exception, handle: Handler) -> None:
        """`handle(event, channel)` retries it (raising one of STORE_FAILURES while the store still fails)."""
        key = event_key(event, channel)
        with self._changed:
            if key not in self._entries:
                log.warning("store write failed for %s in %s, will retry: %s", key[1], channel, error)
                self._entries[key] = _Entry(self.clock() + _delay(1), key, event, channel, handle)
        self.start()  # the first failure starts the retrying thread (later calls: nothing)
        self.wake()

    def retry_now(self) -> None:
        """The store answers again: every entry is due now (not after its backoff)."""
        with self._changed:
            now = self.clock()
            for entry in self._entries.values():
                entry.due = min(entry.due, now)
        self.wake()

    def keys(self) -> set[tuple[str, str]]:
        with self._changed:
            return set(self._entries)

    def __len__(self) -> int:
        with self._changed:
            return len(self._entries)

    def retry_due(self) -> int:
        """Retry every entry that is due now (in the order they failed); the number stored."""
        with self._changed:
            due = sorted(entry for entry in self._entries.values() if entry.due <= self.clock())
        done = 0
        for number, entry in enumerate(due):
            try:
                entry.handle(entry.event, entry.channel)
            except STORE_FAILURES as exc:
                with self._changed:
                    entry.attempts += 1
                    entry.due = self.clock() + _delay(entry.attempts)
                    for later in due[number + 1 :]:  # the store is still failing: they wait as long
                        later.due = max(later.due, entry.due)
                log.debug("retry %d of %s failed: %s", entry.attempts, entry.key, exc)
                break
            except Exception:
                log.exception("retrying %s failed; left to the sweep", entry.key)
            with self._changed:
                self._entries.pop(entry.key, None)
            done += 1
        return done

    # -- background ----------------------------------------------------------------------------------
    def interval(self) -> float:
        """Until the next entry is due, looking again at least every second."""
        with self._changed:
            due = min((entry.due for entry in self._entries.values()), default=None)
        return 1.0 if due is None else max(0.0, min(1.0, due - self.clock()))

    def step(self) -> None:
        self.retry_due()


def _delay(attempts: int) -> float:
    base = min(MAX_DELAY, FIRST_DELAY * 2 ** (attempts - 1))
    return base * random.uniform(0.8, 1.2)
