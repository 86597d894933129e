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
    attempts: int = field(default=1, compare=False)


def event_key(event: dict[str, Any], channel: str) -> tuple[str, str]:
    """One entry per message and edit: (channel, ts[/edited ts])."""
    message = event.get("message") or {}
    ts = message.get("ts") or event.get("deleted_ts") or event.get("ts") or ""
    edited = (message.get("edited") or {}).get("ts")
    return channel, f"{ts}/{edited}" if edited else ts


class RetryQueue:
    def __init__(self, handle: Handler, clock: Callable[[], float] = time.monotonic) -> None:
        self.handle = handle
        self.clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def defer(self, event: dict[str, Any], channel: str, error: Exception) -> None:
        key = event_key(event, channel)
        with self._changed:
            if key not in self._entries:
                log.warning("store write failed for %s in %s, will retry: %s", key[1], channel, error)
                self._entries[key] = _Entry(self.clock() + _delay(1), key, event, channel)
            self._changed.notify_all()
            if self._thread is None:  # the first failure starts the retrying thread
                self.start()

    def retry_now(self) -> None:
        """The store answers again: every entry is due now (not after its backoff)."""
        with self._changed:
            now = self.clock()
            for entry in self._entries.values():
                entry.due = min(entry.due, now)
            self._changed.notify_all()

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
                self.handle(entry.event, entry.channel)
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
    def start(self) -> RetryQueue:
        self._thread = threading.Thread(target=self._run, name="slack-intake-retry", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._changed:
                wait = min((entry.due for entry in self._entries.values()), default=None)
                timeout = 1.0 if wait is None else max(0.0, min(1.0, wait - self.clock()))
                if timeout > 0:
                    self._changed.wait(timeout)
            if not self._stop.is_set():
                self.retry_due()


def _delay(attempts: int) -> float:
    base = min(MAX_DELAY, FIRST_DELAY * 2 ** (attempts - 1))
    return base * random.uniform(0.8, 1.2)
