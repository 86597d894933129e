"""The background-worker base: one start, one stop rule, a loop that never dies silently."""

from __future__ import annotations

import logging
import threading

import pytest

from bot.worker import Worker
from tests.support.waiting import wait_until


class Counting(Worker):
    def __init__(self, every: float | None = None, *, wait_first: bool = False, fail: bool = False) -> None:
        super().__init__("counting", every=every, wait_first=wait_first)
        self.steps = 0
        self.fail = fail
        self.finished_in: str | None = None

    def step(self) -> None:
        self.steps += 1
        if self.fail:
            raise RuntimeError("boom")

    def finished(self) -> None:
        self.finished_in = threading.current_thread().name


def test_nothing_runs_until_start_and_the_first_step_runs_at_once() -> None:
    worker = Counting(every=None)
    assert worker.steps == 0 and not worker.started
    worker.start()
    try:
        wait_until(lambda: worker.steps == 1)
        assert worker.is_alive()
    finally:
        assert worker.stop() is True
    assert not worker.is_alive() and worker.finished_in == "counting"


def test_wake_runs_a_step_now() -> None:
    worker = Counting(every=None).start()  # no interval: only wake() asks
    try:
        wait_until(lambda: worker.steps == 1)
        worker.wake()
        wait_until(lambda: worker.steps == 2)
    finally:
        worker.stop()


def test_wait_first_waits_for_a_wake_or_the_interval() -> None:
    worker = Counting(every=None, wait_first=True).start()
    try:
        assert worker.steps == 0
        worker.wake()
        wait_until(lambda: worker.steps == 1)
    finally:
        worker.stop()


def test_start_twice_is_one_thread_and_a_stopped_worker_does_not_start_again() -> None:
    worker = Counting(every=None).start()
    worker.start()
    wait_until(lambda: worker.steps == 1)
    assert [t.name for t in threading.enumerate()].count("counting") == 1
    worker.stop()
    worker.start()
    assert not worker.is_alive() and worker.steps == 1


def test_stop_before_start_never_runs() -> None:
    worker = Counting(every=0)
    assert worker.stop() is True
    worker.start()
    assert worker.steps == 0 and not worker.started


class Stuck(Worker):
    def __init__(self) -> None:
        super().__init__("stuck", every=None)
        self.release = threading.Event()
        self.entered = threading.Event()

    def step(self) -> None:
        self.entered.set()
        self.release.wait()  # a foreign call that does not listen to stop()


def test_stop_is_bounded_and_says_so_when_a_step_does_not_end(caplog: pytest.LogCaptureFixture) -> None:
    worker = Stuck().start()
    worker.entered.wait(10)
    with caplog.at_level(logging.WARNING, logger="bot.worker"):
        assert worker.stop(timeout=0.01) is False
    assert "stuck did not stop" in caplog.text
    assert all(t.daemon for t in threading.enumerate() if t.name == "stuck")  # never holds the process
    worker.release.set()
    wait_until(lambda: not worker.is_alive())


class Pausing(Worker):
    def __init__(self) -> None:
        super().__init__("pausing", every=None)
        self.woke: list[bool] = []

    def step(self) -> None:
        self.woke.append(self.pause(None))  # a paced wait: stop() ends it


def test_stop_ends_a_pause_in_progress() -> None:
    worker = Pausing().start()
    wait_until(lambda: worker.is_alive())
    assert worker.stop() is True
    assert worker.woke == [True]


def test_a_failing_step_is_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    worker = Counting(every=None, fail=True)
    with caplog.at_level(logging.ERROR, logger="bot.worker"):
        worker.start()
        wait_until(lambda: worker.steps == 1)
        worker.wake()
        wait_until(lambda: worker.steps == 2)
        worker.stop()
    assert "counting: a step failed" in caplog.text and "RuntimeError: boom" in caplog.text


class Ending(Worker):
    def __init__(self) -> None:
        super().__init__("ending", every=0)
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps == 3:
            self.end()


def test_a_step_may_end_its_own_loop() -> None:
    worker = Ending().start()
    wait_until(lambda: not worker.is_alive())
    assert worker.steps == 3 and worker.stop() is True


def test_stop_from_the_workers_own_thread_only_signals() -> None:
    class SelfStopping(Worker):
        def __init__(self) -> None:
            super().__init__("self-stopping", every=0)
            self.answer: bool | None = None

        def step(self) -> None:
            self.answer = self.stop()

    worker = SelfStopping().start()
    wait_until(lambda: not worker.is_alive())
    assert worker.answer is False  # it did not join itself
