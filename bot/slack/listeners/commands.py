"""`/bug` and its "Next page" button. Thin: ack at once, dispatch, respond (ephemeral unless asked)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.metrics.registry import EVENTS_HANDLED
from bot.slack.blocks import NEXT_PAGE_ACTION, Reply
from bot.slack.slash import dispatch
from storage.store import BugStore


def register(app: App, store: BugStore, may_link: Callable[[str], bool]) -> None:
    @app.command("/bug")
    def on_bug(ack: Any, command: dict[str, Any], respond: Any) -> None:
        ack()  # within Slack's 3 s, before any store work
        EVENTS_HANDLED.labels("command").inc()
        send(respond, dispatch(store, command.get("text"), command.get("user_id", "unknown"), may_link))

    @app.action(NEXT_PAGE_ACTION)
    def on_next_page(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        ack()
        user = (body.get("user") or {}).get("id", "unknown")
        send(respond, dispatch(store, action.get("value"), user, may_link))


def send(respond: Any, reply: Reply) -> None:
    respond(**reply.payload(), response_type="in_channel" if reply.public else "ephemeral")
