"""The sweep: read the bug channels' history from the low-water mark and store what is missing or changed.

The same code runs on every new Socket Mode connection (catch-up after a restart or a reconnect) and every
SLACK_SWEEP_SECONDS (default 300; 0 = only on connections). For each channel it reads `conversations.history`
from the mark less SWEEP_OVERLAP_SECONDS, oldest first, and for each top-level message a person posted:
- not stored: stored (a report posted while the bot was down or while the store was failing) and answered;
- `edited.ts` newer than the stored copy: stored as an edit (answered when its tags changed);
- `latest_reply` past the stored activity: `conversations.replies` is read and the new replies are applied,
  so a `ticketId=` tag replied while the bot was down links the report;
- a tombstone (deleted, its thread kept), or a report stored in the window read that the history no longer
  holds: deleted while the bot was not listening, so its text is erased as a live `message_deleted` would.
A report named by one of our folded answers in the history read (its metadata lists the reports it answers:
bot/slack/answer_queue.py) is answered, whatever the saved mark says.
Everything is idempotent (a stored report is UNCHANGED, a made link `already`), and answers are claimed
(bot/slack/claims.py), so several instances sweeping together answer once. Answers are paced to about one
message a second per channel (Slack's chat.postMessage limit). Paging survives HTTP 429: the WebClient's
RateLimitErrorRetryHandler waits the Retry-After and asks again (bot/bootstrap.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from adapters import slack_message
from bot.metrics.registry import ERRORS, SWEEP_LAST_SUCCESS
from bot.slack.answers import folded_reports
from bot.slack.intake import STORE_FAILURES, Intake, IntakeResult
from bot.slack.readers import channel_of
from bot.worker import Worker
from storage.model import BugRecord, timestamp_from_epoch
from storage.values import UpsertOutcome

log = logging.getLogger(__name__)

# An answer is re-derived only past this age: the instance that stored the report posts it unclaimed
# while it is fresh (bot/slack/answer_queue.py LATE_SECONDS), and claims it once it is late.
REDERIVE_AFTER_SECONDS = 30.0
SWEEP_OVERLAP_SECONDS = 300.0  # re-read this much before the mark: late deliveries, a kill mid-burst
PAGE = 200
DELETE_MARGIN_SECONDS = 10.0  # reports younger than this when the history was read are not judged deleted

Answer = Callable[[str, IntakeResult], None]  # (channel, result): post the result's answer, if it has one


def history(client: WebClient, channel: str, oldest: float) -> list[dict[str, Any]]:
    """conversations.history after `oldest`, every page, oldest message first."""
    messages: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.conversations_history(  # with metadata: the folded answers name their reports
            channel=channel, oldest=f"{oldest:.6f}", limit=PAGE, cursor=cursor, include_all_metadata=True
        )
        messages.extend(page.get("messages") or [])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return sorted(messages, key=lambda message: float(message["ts"]))


def replies(client: WebClient, channel: str, thread_ts: str, after: float) -> Iterator[dict[str, Any]]:
    """The thread's replies newer than `after` (the parent left out), oldest first, every page."""
    cursor = None
    while True:
        page = client.conversations_replies(
            channel=channel, ts=thread_ts, oldest=f"{after:.6f}", limit=PAGE, cursor=cursor
        )
        for message in page.get("messages") or []:
            if message.get("ts") != thread_ts and float(message["ts"]) > after:
                yield message
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def fetch_message(client: WebClient) -> Callable[[str, str], dict[str, Any] | None]:
    """(channel, ts) -> the top-level message at ts (a thread's parent), or None."""

    def fetch(channel: str, ts: str) -> dict[str, Any] | None:
        page = client.conversations_replies(channel=channel, ts=ts, limit=1, inclusive=True)
        found = [message for message in page.get("messages") or [] if message.get("ts") == ts]
        return found[0] if found else None

    return fetch


class Sweeper(Worker):
    def __init__(
        self,
        client: WebClient,
        intake: Intake,
        channels: tuple[str, ...],
        answer: Answer,
        every_seconds: int = 300,
        queued: Callable[[str, str], bool] = lambda channel, ts: False,
    ) -> None:
        """`answer` (channel, result): queues what a result earned (bot/slack/answer_queue.py), which posts
        it at Slack's pace; `queued` (channel, ts): is that report's answer waiting there now."""
        # its worker (bot/worker.py): the marks saved every second, a sweep every `every_seconds` (0: only
        # when `wake()` asks, on a new connection)
        super().__init__("slack-sweep", every=1.0)
        self.client, self.intake, self.channels = client, intake, channels
        self.answer = answer
        self.every_seconds = every_seconds
        self.queued = queued
        self._lock = threading.Lock()
        self._sweep_asked = threading.Event()
        self._unanswered_since: dict[tuple[str, str], float] = {}  # (channel, ts) -> first seen (monotonic)
        self._follow_up: float | None = None  # when to sweep again for reports that looked unanswered
        self._next_sweep = time.monotonic() + every_seconds if every_seconds else None
        self._failing: set[str] = set()

    # -- one sweep -----------------------------------------------------------------------------------
    def run(self) -> int:
        """Sweep every channel once; the number of messages that were missing or changed."""
        with self._lock:  # connections and the timer: one sweep at a time, the next finds nothing new
            changed = 0
            for channel in self.channels:
                changed += self.sweep_channel(channel)
            forget = time.monotonic() - 2 * SWEEP_OVERLAP_SECONDS  # out of every window the sweep reads
            self._unanswered_since = {key: at for key, at in self._unanswered_since.items() if at > forget}
            SWEEP_LAST_SUCCESS.set(time.time())
            return changed

    def sweep_channel(self, channel: str) -> int:
        watermarks = self.intake.watermarks
        mark, start = watermarks.saved(channel)
        if mark is None:
            # first start ever: begin now rather than answering the channel's whole past
            watermarks.begin(channel, time.time())
            return 0
        oldest = max(start or 0.0, min(mark, watermarks.mark(channel)) - SWEEP_OVERLAP_SECONDS)
        changed, results = 0, list[IntakeResult]()
        read_at = time.time()
        messages = history(self.client, channel, oldest)
        reports = [report for message in messages if (report := self._top_level_report(message)) is not None]
        stored = self.intake.store.get_records("slack", [report["ts"] for report in reports])  # batched
        self._folded(channel, messages)
        for message in messages:
            if message.get("subtype") == "tombstone":  # deleted, its thread kept: erase it if stored
                # dated by this read: newer than any edit of it that may still arrive
                vanished = {"deleted_ts": message["ts"], "event_ts": f"{read_at:.6f}"}
                erased = self.intake.delete_message(vanished, channel)
                if erased is not None and erased.outcome is UpsertOutcome.UPDATED:
                    changed, results = changed + 1, [*results, erased]
                continue
            report = self._top_level_report(message)
            if report is not None:
                changed += self._message(channel, report, results, stored.get(report["ts"]))
        present = {m["ts"] for m in messages if m.get("subtype") != "tombstone"}
        gone = self._gone(channel, oldest, read_at, present)
        changed, results = changed + len(gone), results + gone
        watermarks.flush(force=True)
        log.info("sweep %s: %d message(s) missing or changed", channel, changed)
        for result in results:  # everything is stored first; the answers follow, queued and claimed
            if result.reply:
                self.answer(channel, replace(result, exclusive=False))
            elif result.kind == "delete":  # no answer: the status card forgets what it quoted
                self.answer(channel, result)
        return changed

    def _folded(self, channel: str, messages: list[dict[str, Any]]) -> None:
        """The reports our folded answers in `messages` name are answered (maybe before a restart, the saved
        mark not saying so yet): never answered again."""
        for ts in folded_reports(messages):
            if not self.queued(channel, ts):
                self.intake.watermarks.answered(channel, ts)

    def _gone(self, channel: str, oldest: float, read_at: float, present: set[str]) -> list[IntakeResult]:
        """Erase the reports of this channel stored in the window read that the history no longer holds:
        deleted while the bot was not listening. Only up to DELETE_MARGIN_SECONDS before the history was
        read (a message posted while it was being read is not missing)."""
        since, until = timestamp_from_epoch(oldest), timestamp_from_epoch(read_at - DELETE_MARGIN_SECONDS)
        if since > until:
            return []
        gone: list[IntakeResult] = []
        store, cursor = self.intake.store, None
        while True:
            page = store.list_records(source="slack", since=since, until=until, limit=PAGE, cursor=cursor)
            for row in page.records:
                if row.record_id in present or float(row.record_id) <= oldest:
                    continue
                where = channel_of(row)  # from the permalink; without one, from the stored record
                if where is None and (full := store.get_record("slack", row.record_id)) is not None:
                    where = channel_of(full)
                if where != channel:
                    continue
                event = {"deleted_ts": row.record_id, "event_ts": f"{read_at:.6f}"}
                erased = self.intake.delete_message(event, channel)
                if erased is not None and erased.outcome is UpsertOutcome.UPDATED:
                    log.info("sweep %s: %s was deleted in Slack; its text is erased", channel, row.home_id)
                    gone.append(erased)
            cursor = page.next_cursor
            if not cursor:
                return gone

    def _top_level_report(self, message: dict[str, Any]) -> dict[str, Any] | None:
        if message.get("subtype") == "tombstone":
            return None
        report = self.intake.as_report(message)
        return report if report is not None and not slack_message.is_thread_reply(report) else None

    def _message(
        self, channel: str, message: dict[str, Any], results: list[IntakeResult], stored: BugRecord | None
    ) -> int:
        """`stored`: the report's stored copy, read with the rest of the history's (None: not stored)."""
        ts = message["ts"]
        edited = (message.get("edited") or {}).get("ts")
        before = float(stored.attributes.get("last_activity") or ts) if stored else float(ts)
        if stored is None:
            result = (
                self.intake.ingest_edit(message, channel, edited)
                if edited
                else self.intake.ingest_message(message, channel)
            )
        elif edited and timestamp_from_epoch(edited) > stored.updated_at:
            result = self.intake.ingest_edit(message, channel, edited)
        elif float(message.get("latest_reply") or 0) > before:
            result = self.intake.ingest_message(message, channel, previous=stored)
        else:
            self.intake.watermarks.stored(channel, ts)
            return self._unanswered(channel, message, results)
        if result is not None:
            results.append(result)
        if float(message.get("latest_reply") or 0) > before:
            for reply in replies(self.client, channel, ts, before):
                if (report := self.intake.as_report(reply)) is not None:
                    answered = self.intake.thread_reply(report, channel)
                    if answered is not None:
                        results.append(answered)
        return 1

    def _unanswered(self, channel: str, message: dict[str, Any], results: list[IntakeResult]) -> int:
        """A stored report a previous process may have stopped before answering (its answer was queued):
        its answer is queued again, claimed, and posted only if its thread does not hold it yet (read back
        then, on the answer queue's worker: bot/slack/delivery.py)."""
        ts = message["ts"]
        watermarks = self.intake.watermarks
        if self.queued(channel, ts) or not watermarks.may_be_unanswered(channel, ts):
            self._unanswered_since.pop((channel, ts), None)
            return 0
        # the instance that took it may be answering it (unclaimed while it is fresh): only once it has
        # looked unanswered for REDERIVE_AFTER_SECONDS is it answered here (a sweep then is asked for)
        now = time.monotonic()
        since = self._unanswered_since.setdefault((channel, ts), now)
        if now - since < REDERIVE_AFTER_SECONDS:
            self._follow_up = now + REDERIVE_AFTER_SECONDS if self._follow_up is None else self._follow_up
            return 0
        del self._unanswered_since[(channel, ts)]
        result = self.intake.ingest_message(message, channel, retried=True)  # unchanged: a claimed answer
        if result.reply:
            results.append(replace(result, check_thread=True))
        return 0  # nothing changed: only an answer that may be missing

    # -- in the background ---------------------------------------------------------------------------
    def wake(self) -> None:
        """Sweep now (a new Socket Mode connection: catch up)."""
        self._sweep_asked.set()
        super().wake()

    def step(self) -> None:
        due = self._next_sweep is not None and time.monotonic() >= self._next_sweep
        follow_up = self._follow_up is not None and time.monotonic() >= self._follow_up
        if follow_up:
            self._follow_up = None
        if self._sweep_asked.is_set() or due or follow_up:
            self._sweep_asked.clear()
            self._safe(self.run)
            if self.every_seconds:
                self._next_sweep = time.monotonic() + self.every_seconds
        self._safe(self.intake.watermarks.flush)

    def _safe(self, work: Callable[[], Any]) -> None:
        name = getattr(work, "__name__", "work")
        try:
            work()
        except (*STORE_FAILURES, SlackApiError, SlackClientError) as exc:  # the next round tries again
            if name not in self._failing:  # one line per failure streak, not one a second
                log.warning("sweep: %s failed, will try again: %s", name, exc)
            self._failing.add(name)
            return
        except Exception:
            ERRORS.inc()
            log.exception("sweep: %s failed", name)
            return
        if name in self._failing:
            self._failing.discard(name)
            log.info("sweep: %s works again", name)
