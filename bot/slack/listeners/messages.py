"""Bug-channel message events: new reports, thread replies, edits, deletes. Thin: route, call intake, post."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from adapters import slack
from bot.metrics.registry import EVENTS_HANDLED
from bot.slack.blocks import Reply, build_intake_reply
from bot.slack.intake import Intake, IntakeResult
from bot.slack.suggestion_blocks import suggestion_blocks, suggestion_text
from bot.status import StatusBoard
from bot.suggest.service import Suggester


def register(
    app: App,
    intake: Intake,
    channels: tuple[str, ...],
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
) -> None:
    # One listener for every message subtype: app.message() would not see edits and deletes.
    @app.event("message")
    def on_message(event: dict[str, Any], client: WebClient, context: Any) -> None:
        channel = event.get("channel")
        if channel not in channels:
            return
        result = route(intake, event, channel, context.get("bot_user_id"))
        if result is not None:
            EVENTS_HANDLED.labels(result.kind).inc()
            post_reply(client, channel, result, suggester, board)


def route(
    intake: Intake, event: dict[str, Any], channel: str, bot_user_id: str | None
) -> IntakeResult | None:
    subtype = event.get("subtype")
    if subtype == "message_changed":
        return intake.edit_message(event)
    if subtype == "message_deleted":
        return intake.delete_message(event)
    if not slack.is_person_message(event, bot_user_id):
        return None  # bots (ourselves included), joins, topic changes...
    if slack.is_thread_reply(event):
        return intake.thread_reply(event, channel)
    return intake.ingest_message(event, channel)


def post_reply(
    client: WebClient,
    channel: str,
    result: IntakeResult,
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
) -> None:
    """Answer in the report's thread, only when the event earned an answer (see bot/slack/intake.py).
    A new report still under its own id also gets the tickets it resembles, each with a link button.
    With status updates on, the first answer becomes the report's status card, made current at once when
    the report lives under a ticket (a tag linked it)."""
    _post_answer(client, channel, result, suggester, board)
    if board is not None and result.ticket_id and result.ticket_id != result.home_id:
        board.ticket_changed(result.ticket_id)


def _post_answer(
    client: WebClient,
    channel: str,
    result: IntakeResult,
    suggester: Suggester | None,
    board: StatusBoard | None,
) -> None:
    if not result.reply:
        return
    reply = build_intake_reply(result)
    text, blocks = reply.text, list(reply.blocks)
    if suggester is not None and result.kind == "message" and result.ticket_id == result.home_id:
        suggestions = suggester.suggest_for_id(result.home_id)
        if suggestions:
            text = f"{text}\n{suggestion_text(result.home_id, suggestions)}"
            blocks += suggestion_blocks(result.home_id, suggestions)
    if text:
        thread_ts = result.home_id.split("-", 1)[1]
        posted = client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, **Reply(text, blocks).payload()
        )
        if board is not None and result.kind == "message":
            board.first_reply(result.home_id, channel, posted["ts"], card_note(reply.text))


def card_note(reply_text: str) -> str:
    """What of the first answer stays on the status card: the tag problems, not "stored as" / "to link it"
    (the card says where the report lives)."""
    lines = reply_text.splitlines()
    return "\n".join(line for line in lines if not line.startswith(("Stored as", "To link it")))
