"""The one shape of a background loop in this process: a daemon thread, started once, stopped by one rule.

A worker is built with its collaborators (constructor arguments, as everywhere: bot/bootstrap.py wires them)
and does nothing until `start()`. Its thread calls `step()`, then waits `interval()` seconds (None: until
woken) or until `wake()`, and repeats until `stop()`.

The stop rule, the same for every worker: `stop(timeout)` signals the loop, wakes it and joins the thread for
at most `timeout` seconds; it returns whether the thread ended. A step in progress is never interrupted: a
step that waits (a paced post, a store call) should wait with `pause()`, which returns as soon as the worker
is stopping. Threads are daemons, so a step stuck in a foreign call can never hold the process open after the
bounded join gave up on it. `stop()` is idempotent, may be called before `start()` (the worker then never
runs) and from the worker's own thread (it then only signals). A stopped worker does not start again.

A step that raises one of our own expected errors should catch it (and say so once); anything else is
logged here with its traceback and the loop goes on: a background loop never dies silently.
"""

from __future__ import annotations

import logging
import threading
from typing import Self

log = logging.getLogger(__name__)

STOP_SECONDS = 5.0  # how long stop() waits for a step in progress by default


class Worker:
    def __init__(self, name: str, every: float | None = None, *, wait_first: bool = False) -> None:
        """`name`: the thread's name (logs, py-spy); `every`: seconds between steps (None: only on wake());
        `wait_first`: the first step after one interval rather than at once."""
        self.name = name
        self.every = every
        self.wait_first = wait_first
        self._worker_wake = threading.Event()
        self._worker_stopping = threading.Event()
        self._worker_lock = threading.Lock()
        self._worker_thread: threading.Thread | None = None

    # -- what a subclass writes ------------------------------------------------------------------------
    def step(self) -> None:  # pragma: no cover - every worker has its own
        raise NotImplementedError

    def interval(self) -> float | None:
        """Seconds to wait after a step (None: until woken). Override for a wait computed each time."""
        return self.every

    def finished(self) -> None:
        """Called once in the worker's thread after the loop ended (release what only it holds)."""

    # -- the one start / stop rule -------------------------------------------------------------------------
    def start(self) -> Self:
        """Start the thread (its first step runs at once). Later calls, and calls after stop(), do nothing."""
        with self._worker_lock:
            if self._worker_thread is None and not self._worker_stopping.is_set():
                self._worker_thread = threading.Thread(target=self._worker_loop, name=self.name, daemon=True)
                self._worker_thread.start()
        return self

    def wake(self) -> None:
        """Run the next step now rather than after its interval."""
        self._worker_wake.set()

    def stop(self, timeout: float = STOP_SECONDS) -> bool:
        """Signal the loop to end, then join it for at most `timeout` seconds; True once the thread ended
        (or never ran). A step still running after `timeout` is left to finish on its daemon thread."""
        with self._worker_lock:
            self._worker_stopping.set()
            self._worker_wake.set()
            thread = self._worker_thread
        if thread is None or thread is threading.current_thread():
            return thread is None
        thread.join(timeout)
        if thread.is_alive():
            log.warning("%s did not stop within %.1f s; leaving it to end on its own", self.name, timeout)
            return False
        return True

    def end(self) -> None:
        """End the loop after this step (a step that finds there is nothing left to do calls it)."""
        self._worker_stopping.set()

    @property
    def stopping(self) -> bool:
        return self._worker_stopping.is_set()

    @property
    def started(self) -> bool:
        return self._worker_thread is not None

    def is_alive(self) -> bool:
        thread = self._worker_thread
        return thread is not None and thread.is_alive()

    def pause(self, seconds: float | None) -> bool:
        """Wait up to `seconds` (None: until woken) for wake() or stop(); True when woken or stopping.
        The wake is consumed: the next pause waits again."""
        woken = self._worker_wake.wait(seconds)
        self._worker_wake.clear()
        if self._worker_stopping.is_set():  # stop() also wakes: keep the signal for the loop's own check
            self._worker_wake.set()
            return True
        return woken

    # -- the loop ------------------------------------------------------------------------------------------
    def _worker_loop(self) -> None:
        try:
            if self.wait_first:
                self.pause(self.interval())
            while not self._worker_stopping.is_set():
                try:
                    self.step()
                except Exception:  # the unexpected: log it with its traceback, keep the loop alive
                    log.exception("%s: a step failed; going on", self.name)
                if self._worker_stopping.is_set():
                    break
                self.pause(self.interval())
        finally:
            try:
                self.finished()
            except Exception:
                log.exception("%s: could not finish cleanly", self.name)
