"""The buttons under a report's thread reply: "Link to ZD-…" and "None of these". Thin: ack at once, check
and link through bot/tickets/link.py, then change the reply (chat.update) to say who did what."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.metrics.registry import EVENTS_HANDLED
from bot.slack.dependencies import SlackDeps
from bot.slack.mrkdwn import message_text
from bot.slack.suggestion_blocks import (
    LINK_ACTION_PREFIX,
    NONE_ACTION,
    dismissed_note,
    linked_note,
    text_without_suggestions,
    without_suggestions,
)
from bot.tickets.link import StaleSuggestion, check_may_link, link_report, readable_report
from storage.errors import BugTrackerError


def register(app: App, deps: SlackDeps) -> None:
    store, actor_of, board, upstreams = deps.store, deps.actor_of, deps.board, deps.upstreams

    @app.action(re.compile(rf"^{LINK_ACTION_PREFIX}\d+$"))
    def on_link(
        ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Any
    ) -> None:
        ack()  # within Slack's 3 s; the link and the update come after
        EVENTS_HANDLED.labels("suggestion").inc()
        user = body["user"]["id"]
        report_id, _, target = (action.get("value") or "").partition(" ")
        try:
            result = link_report(store, report_id, target, actor_of(user), upstreams)
        except StaleSuggestion as exc:
            tell(respond, str(exc))
            update_reply(client, body, f"{exc}")  # the buttons are stale for everyone: take them away
            return
        except BugTrackerError as exc:
            tell(respond, f"Not linked: {exc}")
            return
        if result.already:  # pressed twice, or linked there another way meanwhile
            tell(respond, f"{report_id} is already linked to {result.resolved_target}; nothing changed")
            return
        update_reply(client, body, linked_note(user, report_id, result.resolved_target))
        if board is not None:  # then the reply becomes the report's status card
            board.ticket_changed(result.resolved_target)

    @app.action(NONE_ACTION)
    def on_none(
        ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Any
    ) -> None:
        ack()
        EVENTS_HANDLED.labels("suggestion").inc()
        user = body["user"]["id"]
        try:
            actor = actor_of(user)
            check_may_link(readable_report(store, action.get("value") or "", actor), actor, store)
        except BugTrackerError as exc:
            tell(respond, f"Suggestions kept: {exc}")
            return
        update_reply(client, body, dismissed_note(user))


def tell(respond: Any, text: str) -> None:
    """One line only the person who pressed sees (plain text, escaped)."""
    respond(text=message_text(text), response_type="ephemeral", replace_original=False)


def update_reply(client: WebClient, body: dict[str, Any], note: str) -> None:
    message = body.get("message") or {}
    client.chat_update(
        parse="none",
        channel=body["channel"]["id"],
        ts=message["ts"],
        text=text_without_suggestions(message.get("text") or "", note),
        blocks=without_suggestions(message.get("blocks") or [], note),
    )
