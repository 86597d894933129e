"""Bug-channel message events: new reports, thread replies, edits, deletes. Thin: route, call intake, post."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from adapters import slack
from bot.metrics.registry import EVENTS_HANDLED
from bot.slack.blocks import build_intake_reply
from bot.slack.intake import Intake, IntakeResult


def register(app: App, intake: Intake, channels: tuple[str, ...]) -> None:
    # One listener for every message subtype: app.message() would not see edits and deletes.
    @app.event("message")
    def on_message(event: dict[str, Any], client: WebClient, context: Any) -> None:
        channel = event.get("channel")
        if channel not in channels:
            return
        result = route(intake, event, channel, context.get("bot_user_id"))
        if result is not None:
            EVENTS_HANDLED.labels(result.kind).inc()
            post_reply(client, channel, result)


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


def post_reply(client: WebClient, channel: str, result: IntakeResult) -> None:
    """Answer in the report's thread, only when the event earned an answer (see bot/slack/intake.py)."""
    if not result.reply:
        return
    reply = build_intake_reply(result)
    if reply.text:
        thread_ts = result.home_id.split("-", 1)[1]
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, **reply.payload())
