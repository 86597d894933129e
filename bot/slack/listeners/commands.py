"""`/bug` and its "Next page" button. Thin: ack at once, dispatch, respond (ephemeral unless asked)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.metrics.registry import EVENTS_HANDLED
from bot.slack.blocks import NEXT_PAGE_ACTION, Reply
from bot.slack.dependencies import SlackDeps
from bot.slack.slash import dispatch
from storage.errors import BugTrackerError
from storage.model import parse_ticket_id
from storage.store import BugStore


def register(
    app: App, deps: SlackDeps, open_create: Callable[[WebClient, dict[str, Any]], None] | None = None
) -> None:
    """`open_create`: how `/bug create …` opens the prefilled modal (bot/slack/listeners/create.py)."""
    store, actor_of, board = deps.store, deps.actor_of, deps.board
    readers, upstreams = deps.readers, deps.upstreams

    @app.command("/bug")
    def on_bug(ack: Any, command: dict[str, Any], respond: Any, client: WebClient) -> None:
        ack()  # within Slack's 3 s, before any store work
        EVENTS_HANDLED.labels("command").inc()
        words = (command.get("text") or "").split()
        if (
            open_create is not None
            and words[:1]
            and words[0].lower() == "create"
            and command.get("trigger_id")
        ):
            open_create(client, command)  # reviewed in the modal, created on its submit
            return
        touched = linked_tickets(store, command.get("text")) if board is not None else []
        user, channel = command.get("user_id", "unknown"), command.get("channel_id")
        send(respond, dispatch(store, command.get("text"), user, readers, channel, upstreams, actor_of))
        touched += linked_tickets(store, command.get("text"), created=True) if board is not None else []
        for ticket_id in touched:  # a link or unlink changes the status cards of the reports it moved
            assert board is not None
            board.ticket_changed(ticket_id)

    @app.action(NEXT_PAGE_ACTION)
    def on_next_page(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        ack()
        user = (body.get("user") or {}).get("id", "unknown")
        channel = (body.get("channel") or {}).get("id")
        send(respond, dispatch(store, action.get("value"), user, readers, channel, upstreams, actor_of))


def linked_tickets(store: BugStore, text: str | None, created: bool = False) -> list[str]:
    """For `link A B` / `unlink A`: the ids whose status cards may change (A, B, where A lived before).
    `created`: after `create SYSTEM SL-…` ran, the ticket the report now lives under."""
    words = (text or "").split()
    if created:
        if len(words) != 3 or words[0].lower() != "create":
            return []
        try:
            location = store.resolve(parse_ticket_id(words[2]))[-1]
        except BugTrackerError:
            return []
        return [location] if not location.startswith("SL-") else []
    if len(words) < 2 or words[0].lower() not in ("link", "unlink"):
        return []
    try:
        ids = [parse_ticket_id(word) for word in words[1:3]]
        return list(dict.fromkeys([*ids, store.resolve(ids[0])[-1]]))
    except BugTrackerError:
        return []  # the command itself says what is wrong


def send(respond: Any, reply: Reply) -> None:
    respond(**reply.payload(), response_type="in_channel" if reply.public else "ephemeral")
