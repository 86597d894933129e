"""Stopping always stops: the first SIGTERM / Ctrl-C asks for a graceful stop and arms a deadline; the
second signal, or the deadline passing, ends the process at once.

A graceful stop closes the Socket Mode connection (bounded, bot/slack/socket_client.py) and the background
services; but a thread we do not own (a listener waiting on Slack, an executor's worker that the interpreter
joins at exit) could still hold the process, and ECS sends SIGKILL 30 s after SIGTERM. So past
GRACE_SECONDS the process logs one line and exits with the code it would have had (os._exit: no more
waiting on anyone). Reports lose nothing: a report is stored before it is answered, unacknowledged events are
delivered again, and the sweep reads what was posted meanwhile.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

# The graceful part (Socket Mode closed within 3 s, the services stopped) needs a second or two; answers
# still waiting on Slack's pace are not worth more (the sweep re-derives them). Well within the e2e bound of
# 10 s and ECS's stopTimeout of 30 s.
GRACE_SECONDS = 5.0
INTERRUPTED = 130  # Ctrl-C, as shells report it


class Shutdown:
    """`requested` is set by the first signal. `exit_now` ends the process (os._exit in the real process;
    None in tests that call serve() in their own process: nothing is forced there)."""

    def __init__(
        self, grace_seconds: float = GRACE_SECONDS, exit_now: Callable[[int], object] | None = None
    ) -> None:
        self.requested = threading.Event()
        self.grace_seconds = grace_seconds
        self.exit_now = exit_now
        self.code = 0
        self._armed = threading.Lock()
        self._timer: threading.Timer | None = None

    @classmethod
    def for_process(cls) -> Shutdown:
        return cls(exit_now=os._exit)

    def install(self) -> None:
        """Take SIGTERM and SIGINT (the main thread only, as Python requires)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.requested.is_set():  # the second signal: at once
            if self.exit_now is not None:
                _flush_logs()
                self.exit_now(INTERRUPTED if signum == signal.SIGINT else 128 + signum)
            return
        self.code = INTERRUPTED if signum == signal.SIGINT else 0
        self.requested.set()
        self.arm()
        log.info("stopping (%s); a second signal exits at once", signal.Signals(signum).name)

    def arm(self) -> None:
        """Start the deadline (once): past it, exit with `code` whatever is still running."""
        with self._armed:
            if self._timer is not None or self.exit_now is None:
                return
            self._timer = threading.Timer(self.grace_seconds, self._overdue)
            self._timer.daemon = True
            self._timer.name = "shutdown-deadline"
            self._timer.start()

    def _overdue(self) -> None:
        log.warning("still stopping after %.0f s: exiting now", self.grace_seconds)
        _flush_logs()
        assert self.exit_now is not None
        self.exit_now(self.code)


WAKE_SECONDS = 0.5


def wait_for(stop: threading.Event) -> None:
    """Block the main thread until `stop` is set, waking every WAKE_SECONDS. A signal the kernel hands to
    another thread (any thread not blocking it may get it) only marks the handler as due: Python runs it
    when the main thread next executes bytecode, which a plain `stop.wait()` (a lock acquire nothing
    interrupts) would never do; the bot then ignored SIGTERM under a burst of events."""
    while not stop.wait(WAKE_SECONDS):
        pass


def _flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        try:
            handler.flush()
        except Exception:  # a closed stream: nothing more to say
            pass
