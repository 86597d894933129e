"""The stop rule: the first signal asks, the second (or the deadline) ends the process at once."""

from __future__ import annotations

import signal
import threading

from bot.shutdown import Shutdown


def test_first_signal_asks_and_the_second_exits_at_once():
    exits: list[int] = []
    shutdown = Shutdown(grace_seconds=3600, exit_now=exits.append)
    shutdown._on_signal(signal.SIGTERM, None)
    assert shutdown.requested.is_set() and shutdown.code == 0 and exits == []
    shutdown._on_signal(signal.SIGINT, None)
    assert exits == [130]


def test_ctrl_c_stops_with_130():
    shutdown = Shutdown(grace_seconds=3600, exit_now=lambda code: None)
    shutdown._on_signal(signal.SIGINT, None)
    assert shutdown.code == 130


def test_past_the_deadline_it_exits_with_its_code():
    done = threading.Event()
    exits: list[int] = []

    def exit_now(code: int) -> None:
        exits.append(code)
        done.set()

    shutdown = Shutdown(grace_seconds=0.01, exit_now=exit_now)
    shutdown._on_signal(signal.SIGINT, None)
    assert done.wait(30) and exits == [130]
    shutdown.arm()  # armed once: no second deadline
    assert exits == [130]


def test_without_exit_now_nothing_is_forced():
    shutdown = Shutdown(grace_seconds=0.01)
    shutdown._on_signal(signal.SIGTERM, None)
    shutdown._on_signal(signal.SIGTERM, None)
    shutdown.arm()
    assert shutdown._timer is None


def test_the_main_thread_wakes_while_it_waits(monkeypatch):
    """wait_for() returns to Python between waits, so a signal handler that is due runs (here: each wake is
    counted; the stop is set on the third)."""
    from bot import shutdown as module

    stop = threading.Event()
    wakes: list[float] = []

    def wait(seconds: float) -> bool:
        wakes.append(seconds)
        if len(wakes) == 3:
            stop.set()
        return stop.is_set()

    monkeypatch.setattr(stop, "wait", wait)
    module.wait_for(stop)
    assert wakes == [module.WAKE_SECONDS] * 3


def test_the_first_signal_says_it_is_stopping_and_how_to_stop_at_once(caplog):
    shutdown = Shutdown(grace_seconds=3600, exit_now=lambda code: None)
    with caplog.at_level("INFO", logger="bot.shutdown"):
        shutdown._on_signal(signal.SIGTERM, None)
        shutdown._on_signal(signal.SIGTERM, None)
    assert [r.getMessage() for r in caplog.records] == ["stopping (SIGTERM); a second signal exits at once"]
