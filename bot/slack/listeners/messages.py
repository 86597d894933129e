"""Bug-channel message events: new reports, thread replies, edits, deletes. Thin: route, call intake, post.

A store write that fails is not lost: the event goes to the retry queue (bot/slack/retry.py) and the
channel's low-water mark waits for it. Answers that are not earned by a once-only write (a new report's
insert) are claimed first (bot/slack/claims.py), so several bot instances answer once.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from adapters import slack_message
from bot.metrics.registry import EVENTS_HANDLED, INTAKE_PENDING
from bot.slack.answers import post_answer
from bot.slack.blocks import Reply, build_intake_reply
from bot.slack.claims import Claims
from bot.slack.create_blocks import create_button_block
from bot.slack.home_data import remember_report
from bot.slack.intake import STORE_FAILURES, Intake, IntakeResult
from bot.slack.retry import RetryQueue
from bot.slack.status_board import StatusBoard
from bot.slack.suggestion_blocks import suggestion_blocks, suggestion_text
from bot.suggest.service import Suggester
from storage.values import UpsertOutcome


class Delivery:
    """One bug-channel event: route it, store it, answer it; a failing store defers it to be retried."""

    def __init__(
        self,
        intake: Intake,
        client: WebClient,
        bot_user_id: str | None,
        suggester: Suggester | None = None,
        board: StatusBoard | None = None,
        claims: Claims | None = None,
    ) -> None:
        self.intake, self.client, self.bot_user_id = intake, client, bot_user_id
        self.suggester, self.board = suggester, board
        self.claims = claims or Claims(intake.store)
        self.retries = RetryQueue(lambda event, channel: self.deliver(event, channel, retried=True))
        intake.health.on_recovery.append(self.retries.retry_now)
        INTAKE_PENDING.set_function(self.pending)

    def pending(self) -> int:
        """Reports seen but not stored: in flight, or waiting for the store."""
        return len(self.intake.watermarks.pending() | self.retries.keys())

    def on_event(self, event: dict[str, Any], channel: str) -> None:
        try:
            self.deliver(event, channel)
        except STORE_FAILURES as exc:
            self.retries.defer(event, channel, exc)

    def deliver(self, event: dict[str, Any], channel: str, retried: bool = False) -> None:
        result = route(self.intake, event, channel, self.bot_user_id, retried)
        if result is not None:
            EVENTS_HANDLED.labels(result.kind).inc()
            if result.kind == "message" and result.outcome is UpsertOutcome.INSERTED:
                reporter = (self.intake.as_report(event, self.bot_user_id) or event).get("user")
                remember_report(self.intake.store, reporter, result.home_id)  # for the Home tab
            post_reply(
                self.client,
                channel,
                result,
                self.suggester,
                self.board,
                self.claims,
                self.intake.create_button,
            )


def register(
    app: App,
    intake: Intake,
    channels: tuple[str, ...],
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
) -> Delivery:
    delivery = Delivery(intake, app.client, None, suggester, board)

    # One listener for every message subtype: app.message() would not see edits and deletes.
    @app.event("message")
    def on_message(event: dict[str, Any], context: Any) -> None:
        channel = event.get("channel")
        if channel not in channels:
            return
        delivery.bot_user_id = context.get("bot_user_id") or delivery.bot_user_id
        delivery.on_event(event, channel)

    return delivery


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


def claim_name(channel: str, result: IntakeResult) -> str:
    return f"answer:{channel}:{result.home_id}:{result.kind}:{result.event_ts}"


def post_reply(
    client: WebClient,
    channel: str,
    result: IntakeResult,
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
    claims: Claims | None = None,
    create_button: bool = False,
) -> None:
    """Answer in the report's thread, only when the event earned an answer (see bot/slack/intake.py).
    A new report still under its own id also gets the tickets it resembles, each with a link button, and
    (`create_button`) the "Create…" button that makes a Shortcut story / Zendesk ticket of it.
    With status updates on, the first answer becomes the report's status card, made current at once when
    the report lives under a ticket (a tag linked it). With `claims`, an answer not earned by a once-only
    write is claimed first: posted once whatever the number of instances or sweeps."""
    if board is not None and result.kind == "delete":
        board.report_deleted(result.home_id)
    _post_answer(client, channel, result, suggester, board, claims, create_button)
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
) -> None:
    if not result.reply:
        return
    reply = build_intake_reply(result)
    text, blocks = reply.text, list(reply.blocks)
    if suggester is not None and result.kind == "message" and result.ticket_id == result.home_id:
        suggestions = suggester.suggest_for_id(result.home_id, channel)
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
