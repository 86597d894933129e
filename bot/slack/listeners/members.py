"""`member_joined_channel` / `member_left_channel`: keep the readers' cached channel members current
(bot/slack/readers.py), so that someone who leaves a private bug channel stops seeing its reports at once;
`user_change` / `team_join` keep the guest / outsider map current (bot/slack/directory.py), and
`channel_shared` / `channel_unshared` make a channel's sharing be read again."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.metrics.registry import EVENTS_HANDLED
from bot.slack.dependencies import SlackDeps


def register(app: App, deps: SlackDeps) -> None:
    readers = deps.readers

    @app.event("member_joined_channel")
    def on_joined(event: dict[str, Any]) -> None:
        EVENTS_HANDLED.labels("member").inc()
        readers.member_joined(event.get("channel", ""), event.get("user", ""))

    @app.event("member_left_channel")
    def on_left(event: dict[str, Any]) -> None:
        EVENTS_HANDLED.labels("member").inc()
        readers.member_left(event.get("channel", ""), event.get("user", ""))

    @app.event("user_change")
    @app.event("team_join")
    def on_user(event: dict[str, Any]) -> None:
        EVENTS_HANDLED.labels("member").inc()
        readers.directory.learn(event.get("user") or {})

    @app.event("channel_shared")
    @app.event("channel_unshared")
    def on_sharing(event: dict[str, Any]) -> None:
        EVENTS_HANDLED.labels("member").inc()
        readers.channel_changed(event.get("channel", ""))
