"""`member_joined_channel` / `member_left_channel`: keep the readers' cached channel members current
(bot/slack/readers.py), so that someone who leaves a private bug channel stops seeing its reports at once."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.metrics.registry import EVENTS_HANDLED
from bot.slack.readers import Readers


def register(app: App, readers: Readers) -> None:
    @app.event("member_joined_channel")
    def on_joined(event: dict[str, Any]) -> None:
        EVENTS_HANDLED.labels("member").inc()
        readers.member_joined(event.get("channel", ""), event.get("user", ""))

    @app.event("member_left_channel")
    def on_left(event: dict[str, Any]) -> None:
        EVENTS_HANDLED.labels("member").inc()
        readers.member_left(event.get("channel", ""), event.get("user", ""))
