"""Thread answers, posted at Slack's pace without holding up storing or any listener.

The intake stores a report on Bolt's listener thread and puts what it earned (the thread answer, the status
card's first note, a link's card refresh) here; one worker per channel (bot/worker.py) posts them in order
at chat.postMessage's pace for that channel (about one a second after a burst of 3; the client paces:
bot/slack/pacing.py). A burst of reports is therefore stored at the store's speed while their answers
follow, and a listener thread never sleeps on a post.

A restart loses nothing: a new report's answer holds the channel's low-water mark (bot/slack/watermark.py)
until it is posted, so a process stopped or killed with answers waiting reads those reports back at its
next sweep and answers them then (bot/slack/sweep.py: claimed, after reading the thread back).

Exactly once: an answer posted soon after its report arrived is the insert's own (the insert was once-only,
no claim needed); one that waited longer than LATE_SECONDS is claimed first (bot/slack/claims.py), since
by then another instance's catch-up sweep may be answering the same report.

A failed answer: when the failure may pass (Slack or the store unreachable, a 5xx, a 429 past its retries)
the report stays unanswered and keeps holding the mark, so the sweep answers it later (claimed, after reading
the thread back: an answer whose post landed unseen is not posted twice); a refusal that would repeat
(`channel_not_found`, `invalid_blocks`...) is logged and let go, so that one answer Slack will never take
cannot hold the mark for good. An unexpected error is logged with its traceback and the worker goes on
with the next answer.

Folding: past FOLD_AT answers waiting in one channel (ten minutes of Slack's pace), the oldest new-report
answers are folded, up to FOLD_SIZE at a time, into one channel message naming each report stored
("Stored 50 reports: SL-…, …"), each claimed first as any late answer is (bot/slack/delivery.py
ThreadAnswers.fold). Each report is still answered once, by that message; the folded ones go
without their look-alike suggestions and Create button, which are worth less than an answer minutes late.
The message's metadata lists the reports it answers, which the sweep reads back from the channel's history:
a restart between the fold and the mark's save does not answer them again in their threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.metrics.registry import ERRORS
from bot.slack.intake import IntakeResult
from bot.slack.watermark import Watermarks
from bot.worker import Worker
from storage.errors import BugTrackerError, StoreError, StoreUnavailable

log = logging.getLogger(__name__)

FOLD_AT = 600  # answers waiting in one channel before the oldest are folded (10 minutes at 1 a second)
FOLD_SIZE = 50  # reports named in one folded answer at most
LATE_SECONDS = 10.0  # an answer that waited longer is claimed before it is posted
STOP_SECONDS = 5.0

Post = Callable[[str, IntakeResult], None]  # (channel, result): the answer, its card, its links
Fold = Callable[[str, list[IntakeResult]], None]  # (channel, new reports): one message naming them all
ANSWER_FAILURES = (SlackApiError, SlackClientError, OSError, BugTrackerError)
PASSING_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


@dataclass(frozen=True)
class _Waiting:
    result: IntakeResult | None  # None: a follow-up `action` (AnswerQueue.then)
    since: float  # monotonic time it was queued
    action: Callable[[], None] | None = None
    label: str = ""  # what the action is, for the log


def may_pass(error: BaseException) -> bool:
    """Whether a failed answer may succeed later: Slack or the store unreachable or failing, not refusing."""
    if isinstance(error, SlackApiError):
        status = int(getattr(error.response, "status_code", 200) or 200)
        return status >= 500 or status == 429 or error.response.get("error") in PASSING_ERRORS
    return isinstance(error, (OSError, StoreUnavailable, StoreError))


def holds_mark(result: IntakeResult) -> bool:
    """A new report's answer: the mark waits for it (a lost one is re-derived by the sweep)."""
    return result.reply and result.kind == "message"


def foldable(result: IntakeResult | None) -> bool:
    if result is None:  # a follow-up action
        return False
    return holds_mark(result) and result.ticket_id == result.home_id and not result.problems


class AnswerQueue:
    def __init__(
        self,
        post: Post,
        fold: Fold,
        watermarks: Watermarks | None = None,
        *,
        fold_at: int = FOLD_AT,
        fold_size: int = FOLD_SIZE,
        late_seconds: float = LATE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`watermarks`: the intake's low-water marks, held by each new report until it is answered."""
        self.post, self.fold, self.watermarks = post, fold, watermarks
        self.fold_at, self.fold_size, self.late_seconds = fold_at, fold_size, late_seconds
        self.clock = clock
        self._channels: dict[str, _ChannelAnswers] = {}
        self._lock = threading.Lock()
        self._running = False
        self._stopped = False

    def put(self, channel: str, result: IntakeResult) -> None:
        """Queue what `result` earned in `channel`; never waits."""
        if holds_mark(result) and self.watermarks is not None:
            self.watermarks.awaiting(channel, self._ts(result))
        self._worker(channel).add(_Waiting(result, self.clock()))

    def then(self, channel: str, action: Callable[[], None], label: str) -> None:
        """Run `action` on `channel`'s answer worker once every answer queued there before it was posted
        (so that it finds them in their threads: a link's note edits the report's answer rather than race
        it); never waits. A failure of ours (Slack, the store) is logged with `label`; nothing retries it."""
        self._worker(channel).add(_Waiting(None, self.clock(), action, label))

    def _worker(self, channel: str) -> _ChannelAnswers:
        """The channel's worker, made (and started, when the queue runs) on its first answer."""
        with self._lock:
            worker = self._channels.get(channel)
            if worker is None:
                worker = self._channels[channel] = _ChannelAnswers(self, channel)
                if self._running:
                    worker.start()
        return worker

    def waiting(self, channel: str | None = None) -> int:
        with self._lock:
            workers = [w for c, w in self._channels.items() if channel is None or c == channel]
        return sum(len(worker) for worker in workers)

    def awaiting_live(self, channel: str, ts: str) -> bool:
        """Is the answer to the report `ts` waiting here now (the sweep leaves it to this queue)?"""
        with self._lock:
            worker = self._channels.get(channel)
        return worker is not None and worker.holds(ts)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests, benchmarks and the console: True once nothing waits and nothing is being posted."""
        deadline = time.monotonic() + timeout
        pause = threading.Event()
        while True:
            with self._lock:
                workers = list(self._channels.values())
            if not any(worker.busy for worker in workers):
                return True
            if time.monotonic() >= deadline:
                return False
            pause.wait(0.01)

    def start(self) -> AnswerQueue:
        with self._lock:
            if self._stopped:
                return self
            self._running = True
            workers = list(self._channels.values())
        for worker in workers:
            worker.start()
        return self

    def stop(self, timeout: float = STOP_SECONDS) -> bool:
        """Stop posting (what waits stays unanswered; the marks make the next sweep answer it), joining
        every channel's worker within `timeout` seconds in all."""
        with self._lock:
            self._stopped, self._running = True, False
            workers = list(self._channels.values())
        for worker in workers:
            worker.end()
            worker.wake()
        deadline = time.monotonic() + timeout
        return all([worker.stop(max(0.0, deadline - time.monotonic())) for worker in workers])

    def _ts(self, result: IntakeResult) -> str:
        return result.home_id.split("-", 1)[1]

    def _done(self, channel: str, results: list[IntakeResult]) -> None:
        if self.watermarks is None:
            return
        for result in results:
            if holds_mark(result):
                self.watermarks.answered(channel, self._ts(result))


class _ChannelAnswers(Worker):
    """One channel's answers, oldest first, at the pace the client allows in that channel."""

    def __init__(self, queue: AnswerQueue, channel: str) -> None:
        super().__init__(f"answers {channel}")
        self.queue, self.channel = queue, channel
        self._waiting: deque[_Waiting] = deque()
        self._reports: set[str] = set()  # the home ids waiting (a report may wait more than once)
        self._posting = False
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._waiting)

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._waiting) or self._posting

    def holds(self, ts: str) -> bool:
        with self._lock:
            return f"SL-{ts}" in self._reports

    def add(self, waiting: _Waiting) -> None:
        with self._lock:
            self._waiting.append(waiting)
            if waiting.result is not None:
                self._reports.add(waiting.result.home_id)
        self.wake()

    def step(self) -> None:
        while not self.stopping:
            batch = self._next()
            if not batch:
                return
            try:
                self._answer(batch)
            except Exception:  # a bug: said once with its traceback; the next answers still go
                ERRORS.inc()
                log.exception("answers %s: answering %s failed", self.channel, _name(batch[0]))

    def _next(self) -> list[_Waiting]:
        queue = self.queue
        with self._lock:
            self._posting = bool(self._waiting)
            if not self._waiting:
                return []
            if len(self._waiting) <= queue.fold_at or not foldable(self._waiting[0].result):
                return [self._waiting.popleft()]
            batch: list[_Waiting] = []
            while self._waiting and len(batch) < queue.fold_size and foldable(self._waiting[0].result):
                batch.append(self._waiting.popleft())
            return batch

    def _answer(self, batch: list[_Waiting]) -> None:
        if batch[0].action is not None:
            self._follow_up(batch[0])
            return
        queue = self.queue
        results = [waiting.result for waiting in batch if waiting.result is not None]
        settled = True  # answered, or given up on: the mark may pass these reports
        try:
            if len(batch) > 1:
                log.info("answers %s: %d waiting; %d folded into one", self.channel, len(self), len(batch))
                queue.fold(self.channel, results)
            else:
                result = results[0]
                if queue.clock() - batch[0].since > queue.late_seconds and result.exclusive:
                    result = replace(result, exclusive=False)  # late: another instance may answer it
                queue.post(self.channel, result)
        except ANSWER_FAILURES as exc:
            ERRORS.inc()
            settled = not may_pass(exc)
            later = "; the sweep answers it later" if not settled else ""
            log.warning("answers %s: could not answer %s: %s%s", self.channel, results[0].home_id, exc, later)
        finally:
            if settled:
                queue._done(self.channel, results)
            with self._lock:
                self._reports = {w.result.home_id for w in self._waiting if w.result is not None}

    def _follow_up(self, waiting: _Waiting) -> None:
        assert waiting.action is not None
        try:
            waiting.action()
        except ANSWER_FAILURES as exc:
            ERRORS.inc()
            log.warning("answers %s: %s failed: %s", self.channel, waiting.label, exc)


def _name(waiting: _Waiting) -> str:
    return waiting.result.home_id if waiting.result is not None else waiting.label
