"""One bug-channel event delivered: routed, stored, and what it earned queued to be answered.

Storing happens on the caller's thread (a Bolt listener thread, the retry queue, the sweep) at the store's
speed; the thread answer, the status card's first note and a link's card refresh go to the answer queue
(bot/slack/answer_queue.py), which posts them at Slack's pace on a worker of its own. A store write that
fails is not lost: the event goes to the retry queue (bot/slack/retry.py) and the channel's low-water mark
waits for it. Answers that are not earned by a once-only write (a new report's insert) are claimed first
(bot/slack/claims.py), so several bot instances answer once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from adapters import slack_message
from bot.metrics.registry import EVENTS_HANDLED, INTAKE_PENDING
from bot.slack.answer_queue import AnswerQueue
from bot.slack.answers import answer_key, answer_metadata, find_answer, post_answer
from bot.slack.blocks import Reply, build_intake_reply
from bot.slack.claims import Claims
from bot.slack.create_blocks import create_button_block
from bot.slack.intake import STORE_FAILURES, Intake, IntakeResult
from bot.slack.mrkdwn import message_text
from bot.slack.retry import RetryQueue
from bot.slack.status_board import StatusBoard
from bot.slack.suggestion_blocks import suggestion_blocks, suggestion_text
from bot.suggest.service import Suggester, Suggestion

Fits = Callable[[str, Suggestion], bool]  # (channel, suggestion): may it be shown there (the readers' rule)


class Delivery:
    """One bug-channel event: route it, store it, queue its answer; a failing store defers it to be
    retried (`retries`: a worker started by the first failure, which the intake's store health tells of a
    recovery; stop() ends it)."""

    def __init__(self, intake: Intake, answers: AnswerQueue, retries: RetryQueue) -> None:
        self.intake, self.answers, self.retries = intake, answers, retries
        INTAKE_PENDING.set_function(self.pending)

    def pending(self) -> int:
        """Reports seen but not stored: in flight, or waiting for the store."""
        return len(self.intake.watermarks.pending() | self.retries.keys())

    def on_event(self, event: dict[str, Any], channel: str) -> None:
        try:
            self.deliver(event, channel)
        except STORE_FAILURES as exc:
            self.retries.defer(event, channel, exc, self.redeliver)

    def deliver(self, event: dict[str, Any], channel: str, retried: bool = False) -> None:
        result = route(self.intake, event, channel, None, retried)
        if result is not None:
            EVENTS_HANDLED.labels(result.kind).inc()
            self.answers.put(channel, result)

    def store_report(self, report: dict[str, Any], channel: str) -> None:
        """Store a top-level report met before its own event (a shortcut used on it) and queue what that
        earned, as its event would: when this insert is the one that stored it, its answer is this one's
        (the event, arriving later, finds it stored and earns nothing)."""
        result = self.intake.ingest_message(report, channel)  # not an event: the shortcut counts itself
        self.answers.put(channel, result)

    def redeliver(self, event: dict[str, Any], channel: str) -> None:
        """What the retry queue calls: the same delivery, marked as retried."""
        self.deliver(event, channel, retried=True)

    def start(self) -> Delivery:
        return self  # its retry queue starts with the first failed write

    def stop(self, timeout: float = 5.0) -> bool:
        return self.retries.stop(timeout)


class ThreadAnswers:
    """How the answer queue answers in Slack: `post` one result, `fold` many new reports into one message."""

    def __init__(
        self,
        client: WebClient,
        claims: Claims,
        suggester: Suggester | None = None,
        board: StatusBoard | None = None,
        create_button: bool = False,
        fits: Fits | None = None,
    ) -> None:
        self.client, self.claims = client, claims
        self.suggester, self.board = suggester, board
        self.create_button, self.fits = create_button, fits

    def post(self, channel: str, result: IntakeResult) -> None:
        post_reply(self.client, channel, result, self.suggester, self.board, self.claims, self.create_button,
                   self.fits)  # fmt: skip

    def fold(self, channel: str, results: list[IntakeResult]) -> None:
        """One channel message naming the reports of `results`. Folded answers waited long, so each is claimed
        first, as any late answer is (another instance's sweep may be answering it): the message names only
        those claimed here, and a post that fails gives the claims back."""
        names = {result.home_id: claim_name(channel, result) for result in results}
        claimed = [result for result in results if self.claims.once(names[result.home_id])]
        if not claimed:
            return
        try:
            self._fold(channel, claimed)
        except BaseException:
            for result in claimed:
                self.claims.release(names[result.home_id])
            raise

    def _fold(self, channel: str, results: list[IntakeResult]) -> None:
        ids = [result.home_id for result in results]
        text = (
            f"Stored {len(ids)} reports while answers were running behind: {', '.join(ids)}. "
            "Type /bug show with an id for its status."
        )
        key = f"fold:{channel}:{ids[0]}:{ids[-1]}"
        reports = [home_id.split("-", 1)[1] for home_id in ids]  # read back by the sweep after a restart
        self.client.chat_postMessage(
            channel=channel, text=message_text(text), metadata=answer_metadata(key, reports)
        )


def route(
    intake: Intake, event: dict[str, Any], channel: str, bot_user_id: str | None, retried: bool = False
) -> IntakeResult | None:
    subtype = event.get("subtype")
    if subtype == "message_changed":
        return intake.edit_message(event)
    if subtype == "message_deleted":
        return intake.delete_message(event)
    report = intake.as_report(event, bot_user_id)
    if report is None:
        return None  # bots not listed in SLACK_INTAKE_BOTS (ourselves always), joins, topic changes...
    if slack_message.is_thread_reply(report):
        return intake.thread_reply(report, channel)
    return intake.ingest_message(report, channel, retried=retried)


claim_name = answer_key


def post_reply(
    client: WebClient,
    channel: str,
    result: IntakeResult,
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
    claims: Claims | None = None,
    create_button: bool = False,
    fits: Fits | None = None,
) -> None:
    """Answer in the report's thread, only when the event earned an answer (see bot/slack/intake.py).
    A new report still under its own id also gets the tickets it resembles, each with a link button, and
    (`create_button`) the "Create…" button that makes a Shortcut story / Zendesk ticket of it.
    With status updates on, the first answer becomes the report's status card, made current at once when
    the report lives under a ticket (a tag linked it). With `claims`, an answer not earned by a once-only
    write is claimed first: posted once whatever the number of instances or sweeps. `fits`: the
    suggestions shown are only those the channel's readers may read."""
    if board is not None and result.kind == "delete":
        board.report_deleted(result.home_id)
    _post_answer(client, channel, result, suggester, board, claims, create_button, fits)
    if board is not None and result.ticket_id and result.ticket_id != result.home_id:
        board.ticket_changed(result.ticket_id)


def _post_answer(
    client: WebClient,
    channel: str,
    result: IntakeResult,
    suggester: Suggester | None,
    board: StatusBoard | None,
    claims: Claims | None,
    create_button: bool = False,
    fits: Fits | None = None,
) -> None:
    if not result.reply:
        return
    reply = build_intake_reply(result)
    text, blocks = reply.text, list(reply.blocks)
    if suggester is not None and result.kind == "message" and result.ticket_id == result.home_id:
        visible = (lambda suggestion: fits(channel, suggestion)) if fits is not None else None
        suggestions = (  # the report as stored comes with the result: no read
            suggester.suggest_for(result.record, visible)
            if result.record is not None
            else suggester.suggest_for_id(result.home_id, visible)
        )
        if suggestions:
            text = f"{text}\n{suggestion_text(result.home_id, suggestions)}"
            blocks += suggestion_blocks(result.home_id, suggestions)
    if create_button and result.kind == "message" and result.ticket_id == result.home_id and blocks:
        blocks.append(create_button_block(result.home_id))
    if not text:
        return
    thread_ts = result.home_id.split("-", 1)[1]
    key = claim_name(channel, result)

    def post() -> None:
        if result.check_thread and find_answer(client, channel, thread_ts, key) is not None:
            return  # a previous process posted it before it stopped
        # once even when Slack takes the post and the reply to it is lost (bot/slack/answers.py)
        posted = post_answer(client, channel, thread_ts, key, **Reply(text, blocks).payload())
        if board is not None and result.kind == "message":
            board.first_reply(result.home_id, channel, posted["ts"], card_note(reply.text))

    if claims is None or result.exclusive:
        post()  # the insert that earned it was once-only: no claim needed (one round trip saved)
    else:
        claims.run_once(key, post)


def card_note(reply_text: str) -> str:
    """What of the first answer stays on the status card: the tag problems, not "stored as" / "to link it"
    (the card says where the report lives)."""
    lines = reply_text.splitlines()
    return "\n".join(line for line in lines if not line.startswith(("Stored as", "To link it")))
