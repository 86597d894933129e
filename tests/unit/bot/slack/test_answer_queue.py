"""The answer queue: per channel, oldest first, off the caller's thread; late answers claimed; a backlog
folded; the channel's mark held until a new report is answered."""

from __future__ import annotations

import threading

from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.slack.answer_queue import AnswerQueue
from bot.slack.intake import IntakeResult
from bot.slack.watermark import Watermarks
from tests.support.waiting import wait_until


def new_report(ts: str, **extra: object) -> IntakeResult:
    return IntakeResult(
        "message",
        f"SL-{ts}",
        f"SL-{ts}",
        reply=True,
        event_ts=ts,
        exclusive=True,
        **extra,  # type: ignore[arg-type]
    )


class Recorder:
    def __init__(self, gate: threading.Event | None = None) -> None:
        self.posted: list[tuple[str, IntakeResult]] = []
        self.folded: list[tuple[str, list[str]]] = []
        self.gate = gate
        self.threads: set[str] = set()

    def post(self, channel: str, result: IntakeResult) -> None:
        if self.gate is not None:
            self.gate.wait(10)
        self.threads.add(threading.current_thread().name)
        self.posted.append((channel, result))

    def fold(self, channel: str, results: list[IntakeResult]) -> None:
        self.folded.append((channel, [result.home_id for result in results]))


def test_answers_are_posted_in_order_per_channel_on_the_channels_worker() -> None:
    recorder = Recorder()
    queue = AnswerQueue(recorder.post, recorder.fold).start()
    try:
        for n in range(5):
            queue.put("C1", new_report(f"1.{n}"))
            queue.put("C2", new_report(f"2.{n}"))
        assert queue.wait_idle(10)
    finally:
        queue.stop()
    for channel in ("C1", "C2"):
        assert [r.home_id for c, r in recorder.posted if c == channel] == [
            f"SL-{channel[1]}.{n}" for n in range(5)
        ]
    assert recorder.threads == {"answers C1", "answers C2"}


def test_put_never_waits_for_a_slow_post() -> None:
    gate = threading.Event()
    recorder = Recorder(gate)
    queue = AnswerQueue(recorder.post, recorder.fold).start()
    try:
        for n in range(50):
            queue.put("C1", new_report(f"1.{n}"))  # returns at once although the first post is stuck
        assert queue.waiting("C1") >= 49 and recorder.posted == []
        gate.set()
        assert queue.wait_idle(10) and len(recorder.posted) == 50
    finally:
        gate.set()
        queue.stop()


def test_an_answer_that_waited_long_is_claimed() -> None:
    now = [0.0]
    recorder = Recorder()
    queue = AnswerQueue(recorder.post, recorder.fold, late_seconds=10, clock=lambda: now[0])
    queue.put("C1", new_report("1.1"))
    now[0] = 11.0  # it waited longer than late_seconds before the worker started
    queue.start()
    try:
        assert queue.wait_idle(10)
    finally:
        queue.stop()
    assert recorder.posted[0][1].exclusive is False  # claimed: another instance's sweep may answer it too


def test_past_the_backlog_the_oldest_new_reports_are_folded() -> None:
    recorder = Recorder()
    queue = AnswerQueue(recorder.post, recorder.fold, fold_at=10, fold_size=4)
    problem = IntakeResult("message", "SL-9.9", "SL-9.9", problems=("bad tag",), reply=True, event_ts="9.9")
    queue.put("C1", problem)  # an answer with something to say is never folded
    for n in range(14):
        queue.put("C1", new_report(f"1.{n:02d}"))
    queue.start()
    try:
        assert queue.wait_idle(10)
    finally:
        queue.stop()
    assert recorder.posted[0][1].home_id == "SL-9.9"
    folded = [home_id for _, ids in recorder.folded for home_id in ids]
    posted = [result.home_id for _, result in recorder.posted[1:]]
    assert recorder.folded and all(len(ids) <= 4 for _, ids in recorder.folded)
    assert sorted(folded + posted) == [f"SL-1.{n:02d}" for n in range(14)]  # each answered once


def test_a_new_report_holds_the_mark_until_it_is_answered(sqlite_store) -> None:
    watermarks = Watermarks(sqlite_store)
    watermarks.begin("C1", 1.0)
    gate = threading.Event()
    recorder = Recorder(gate)
    queue = AnswerQueue(recorder.post, recorder.fold, watermarks).start()
    try:
        watermarks.seen("C1", "5.000000")
        watermarks.stored("C1", "5.000000")
        queue.put("C1", new_report("5.000000"))
        assert watermarks.mark("C1") < 5.0 and queue.awaiting_live("C1", "5.000000")
        gate.set()
        wait_until(lambda: watermarks.mark("C1") == 5.0)
        assert not queue.awaiting_live("C1", "5.000000")
        assert not watermarks.may_be_unanswered("C1", "5.000000")  # answered here: the sweep leaves it
    finally:
        gate.set()
        queue.stop()


def test_stop_leaves_what_waits_unanswered_and_the_mark_before_it(sqlite_store) -> None:
    watermarks = Watermarks(sqlite_store)
    watermarks.begin("C1", 1.0)
    gate = threading.Event()
    recorder = Recorder(gate)
    queue = AnswerQueue(recorder.post, recorder.fold, watermarks)
    for n in range(3):
        queue.put("C1", new_report(f"{5 + n}.000000"))
    queue.start()
    wait_until(lambda: queue.waiting("C1") == 2)  # the first is being posted (held at the gate)
    assert queue.stop(timeout=0.05) is False  # a post in progress is not interrupted
    gate.set()
    wait_until(lambda: len(recorder.posted) == 1 and queue.wait_idle(0) is False)
    assert [r.home_id for _, r in recorder.posted] == ["SL-5.000000"]  # the rest stays for the next sweep
    assert 5.0 < watermarks.mark("C1") < 6.0
    assert watermarks.may_be_unanswered("C1", "6.000000")  # a sweep (this process or the next) answers it


def slack_error(error: str, status: int = 200) -> SlackApiError:
    data = {"ok": False, "error": error}
    response = SlackResponse(client=None, http_verb="POST", api_url="https://slack.com/api/chat.postMessage",
                             req_args={}, data=data, headers={}, status_code=status)  # fmt: skip
    return SlackApiError(error, response)


class Failing(Recorder):
    """Fails the post of the reports named in `failures` (home id -> the error), once each."""

    def __init__(self, failures: dict[str, BaseException]) -> None:
        super().__init__()
        self.failures = failures

    def post(self, channel: str, result: IntakeResult) -> None:
        failure = self.failures.pop(result.home_id, None)
        if failure is not None:
            raise failure
        super().post(channel, result)


def stored(watermarks: Watermarks, queue: AnswerQueue, ts: str) -> None:
    """A new report stored in C1, its answer queued (as the intake does)."""
    watermarks.seen("C1", ts)
    watermarks.stored("C1", ts)
    queue.put("C1", new_report(ts))


def test_an_answer_failing_for_now_keeps_the_mark_for_the_sweep_and_the_next_go(sqlite_store) -> None:
    watermarks = Watermarks(sqlite_store)
    watermarks.begin("C1", 1.0)
    failing = Failing({"SL-5.000000": slack_error("internal_error", 503), "SL-6.000000": OSError("reset")})
    queue = AnswerQueue(failing.post, failing.fold, watermarks).start()
    try:
        for n in range(4):
            stored(watermarks, queue, f"{5 + n}.000000")
        assert queue.wait_idle(10)
    finally:
        queue.stop()
    assert [r.home_id for _, r in failing.posted] == ["SL-7.000000", "SL-8.000000"]
    assert 4.0 < watermarks.mark("C1") < 5.0  # held before the first one not answered yet
    for ts in ("5.000000", "6.000000"):  # not waiting here any more: the sweep answers them (claimed)
        assert not queue.awaiting_live("C1", ts) and watermarks.may_be_unanswered("C1", ts)


def test_an_answer_slack_refuses_for_good_lets_the_mark_pass(sqlite_store) -> None:
    watermarks = Watermarks(sqlite_store)
    watermarks.begin("C1", 1.0)
    failing = Failing({"SL-5.000000": slack_error("invalid_blocks")})
    queue = AnswerQueue(failing.post, failing.fold, watermarks).start()
    try:
        stored(watermarks, queue, "5.000000")
        stored(watermarks, queue, "6.000000")
        assert queue.wait_idle(10)
    finally:
        queue.stop()
    assert [r.home_id for _, r in failing.posted] == ["SL-6.000000"]
    assert watermarks.mark("C1") == 6.0  # retrying would be refused again: given up, said in the log


def test_an_unexpected_error_in_one_answer_does_not_stall_the_channel(caplog) -> None:
    failing = Failing({"SL-1.0": RuntimeError("a bug")})
    queue = AnswerQueue(failing.post, failing.fold).start()
    try:
        for n in range(3):
            queue.put("C1", new_report(f"1.{n}"))
        assert queue.wait_idle(10)
    finally:
        queue.stop()
    assert [r.home_id for _, r in failing.posted] == ["SL-1.1", "SL-1.2"]
    assert "answering SL-1.0 failed" in caplog.text


def test_a_follow_up_runs_after_the_answers_queued_before_it_and_a_failing_one_is_only_logged(caplog) -> None:
    gate = threading.Event()
    recorder = Recorder(gate)
    queue = AnswerQueue(recorder.post, recorder.fold).start()
    seen: list[list[str]] = []

    def follow_up() -> None:  # what it finds posted when it runs
        seen.append([result.home_id for _, result in recorder.posted])

    def failing() -> None:
        raise slack_error("channel_not_found")

    try:
        queue.put("C1", new_report("1.0"))  # its post is held at the gate
        queue.then("C1", failing, "the link note of SL-1.0")
        queue.then("C1", follow_up, "a follow-up")  # returns at once although the post is held
        queue.put("C1", new_report("1.1"))
        assert seen == []
        gate.set()
        assert queue.wait_idle(10)
    finally:
        gate.set()
        queue.stop()
    assert seen == [["SL-1.0"]]  # after the answer before it, before the one after it
    assert [result.home_id for _, result in recorder.posted] == ["SL-1.0", "SL-1.1"]
    assert "the link note of SL-1.0 failed" in caplog.text
