"""Bug-channel message events: new reports, thread replies, edits, deletes. Thin: the event is delivered
(bot/slack/delivery.py: stored at once, its answer queued), nothing here waits on Slack."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.slack.dependencies import SlackDeps


def register(app: App, deps: SlackDeps) -> None:
    channels, delivery = deps.channels, deps.delivery

    # One listener for every message subtype: app.message() would not see edits and deletes.
    @app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        channel = event.get("channel")
        if channel in channels:
            delivery.on_event(event, channel)
