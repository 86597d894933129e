"""The channel's low-water mark: every top-level report at or before it is stored.

The sweep (bot/slack/sweep.py) reads `conversations.history` from the mark (less an overlap), so the mark
must never pass a report that is seen but not stored: while a report is in flight or its store write is
failing, the mark stays just before it. Saved under the store's meta key `slack:last_ts:<channel>` as
{"ts": mark, "start": first start}, at most once every 15 seconds per channel (`flush`, called by the intake's
maintenance loop, writes the last change). `start` is the bot's first start in the channel: the channel's
past before it is not the bot's to answer, and edits of messages older than it that were never stored are
ignored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from storage.store import BugStore

# A mark saved late is only older, never wrong: the sweep then reads a few seconds more history (within its
# 300 s overlap), and after a crash it reads back the threads of the reports answered in those last seconds
# (up to 15 per channel at Slack's pace) so that none is answered twice. Saved every second, the mark was a
# quarter of a report's DynamoDB requests in a burst; every 5 s, still a tenth of a request per report in a
# burst of 100 (docs/benchmarks.md).
SAVE_EVERY_SECONDS = 15.0
ANSWERED_KEPT_SECONDS = 3600.0  # answers remembered this long before the mark (the sweep reads 300 s)
TICK = 0.000001  # one microsecond, the resolution of a Slack ts


def key(channel: str) -> str:
    return f"slack:last_ts:{channel}"


@dataclass
class _Channel:
    loaded: bool = False
    saved: float | None = None  # the mark as saved (None: nothing saved yet)
    start: float | None = None
    newest_stored: float = 0.0
    pending: set[str] = field(default_factory=set)  # top-level ts seen, not stored yet
    unanswered: set[str] = field(default_factory=set)  # stored, their answer not posted yet
    answered: set[str] = field(default_factory=set)  # answered by this process, since its start
    first_mark: float | None = None  # the mark as this process found it: reports after it are its own
    saved_at: float = 0.0  # monotonic time of the last save


class Watermarks:
    def __init__(self, store: BugStore, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self._channels: dict[str, _Channel] = {}
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------------------
    def _channel(self, channel: str) -> _Channel:
        """The channel's state, loaded from the store once (call with the lock held)."""
        state = self._channels.setdefault(channel, _Channel())
        if not state.loaded:
            saved: dict[str, Any] = self.store.get_meta(key(channel)) or {}
            if saved.get("ts"):
                state.saved = state.first_mark = float(saved["ts"])
                state.start = float(saved.get("start") or saved["ts"])
                state.newest_stored = max(state.newest_stored, state.saved)
            state.loaded = True
        return state

    def saved(self, channel: str) -> tuple[float | None, float | None]:
        """(mark, start) as known: the saved mark and the channel's first start; (None, None) before the
        bot's first start in the channel."""
        with self._lock:
            state = self._channel(channel)
            return state.saved, state.start

    def start(self, channel: str) -> float | None:
        with self._lock:
            return self._channel(channel).start

    def begin(self, channel: str, now: float) -> None:
        """The first start in a channel: the mark and the start are `now` (the past is not answered)."""
        with self._lock:
            state = self._channel(channel)
            if state.saved is None:
                self.store.put_meta(key(channel), {"ts": f"{now:.6f}", "start": f"{now:.6f}"})
                state.saved = state.start = state.first_mark = now
                state.newest_stored = max(state.newest_stored, now)

    # -- the intake tells ----------------------------------------------------------------------------
    def seen(self, channel: str, ts: str) -> None:
        with self._lock:
            self._channels.setdefault(channel, _Channel()).pending.add(ts)

    def stored(self, channel: str, ts: str) -> None:
        with self._lock:
            state = self._channels.setdefault(channel, _Channel())
            state.pending.discard(ts)
            state.newest_stored = max(state.newest_stored, float(ts))

    def awaiting(self, channel: str, ts: str) -> None:
        """The report `ts` is stored and its answer queued: the mark waits until it is answered."""
        with self._lock:
            self._channels.setdefault(channel, _Channel()).unanswered.add(ts)

    def answered(self, channel: str, ts: str) -> None:
        with self._lock:
            state = self._channels.setdefault(channel, _Channel())
            state.unanswered.discard(ts)
            state.answered.add(ts)

    def is_awaiting(self, channel: str, ts: str) -> bool:
        with self._lock:
            state = self._channels.get(channel)
            return state is not None and ts in state.unanswered

    def may_be_unanswered(self, channel: str, ts: str) -> bool:
        """A stored report this process has not answered, after the mark it found at its start (before
        that mark, every report was answered): a previous process may have stopped before answering it."""
        with self._lock:
            state = self._channel(channel)
            first = state.first_mark
            return first is not None and float(ts) > first and ts not in state.answered

    def pending(self) -> set[tuple[str, str]]:
        with self._lock:
            return {(channel, ts) for channel, state in self._channels.items() for ts in state.pending}

    def mark(self, channel: str) -> float:
        with self._lock:
            return self._mark(self._channel(channel))

    @staticmethod
    def _mark(state: _Channel) -> float:
        waiting = state.pending | state.unanswered
        if waiting:
            return min(float(ts) for ts in waiting) - TICK
        return state.newest_stored

    # -- saving --------------------------------------------------------------------------------------
    def flush(self, force: bool = False) -> None:
        """Save each channel's mark where it changed, at most once every SAVE_EVERY_SECONDS per channel
        (store errors propagate: the mark is saved on a later flush). The store is written outside the lock,
        so that a slow store never holds up the intake or a /metrics scrape."""
        due: list[tuple[str, float, float]] = []
        with self._lock:
            now = self.clock()
            for channel, state in self._channels.items():
                if not state.loaded or state.saved is None or state.start is None:
                    continue  # not read yet, or before the first start (begin): nothing to save
                mark = self._mark(state)
                state.answered = {ts for ts in state.answered if float(ts) > mark - ANSWERED_KEPT_SECONDS}
                if mark != state.saved and (force or now - state.saved_at >= SAVE_EVERY_SECONDS):
                    due.append((channel, mark, state.start))
        for channel, mark, start in due:
            self.store.put_meta(key(channel), {"ts": f"{mark:.6f}", "start": f"{start:.6f}"})
            with self._lock:
                state = self._channels[channel]
                state.saved, state.saved_at = mark, now
