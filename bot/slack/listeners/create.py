"""Creating a Shortcut story / Zendesk ticket from a report: the "Create…" button (thread answer, status
card), the "Create a new ticket instead…" button of the Link to ticket modal, `/bug create SYSTEM SL-…`, the
modal's system select, and its submission. Thin: the verb is bot/tickets/create.py, the views
bot/slack/create_blocks.py.

Slack's 3-second rule: the button and the command open a "Preparing…" modal at once (the trigger_id lives
about 3 s), then read the report, its thread and the system's choices and fill the form (views.update). On
submit the fields are checked from memory (no network) and errors shown under them; then the modal says
"Creating…" (response_action update, within the ack), the verb runs, the thread gets the answer and the
status card follows, and only then the modal shows the outcome: the new ticket, or the one line saying why
nothing was made. A Shortcut select with more than 100 choices (projects, teams, states) is an
external_select: what the person types is answered from the choices in memory (`app.options`). A modal
closed meanwhile (views.update: not_found / hash_conflict) loses nothing
(bot/slack/views.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.metrics.registry import EVENTS_HANDLED
from bot.slack.answers import post_answer
from bot.slack.create_blocks import (
    MODAL_CALLBACK,
    OPEN_ACTION,
    PROJECT,
    STATE,
    SYSTEM_ACTION,
    TEAM,
    FormChoices,
    create_modal,
    created_blocks,
    matching_options,
    message_modal,
    read_form,
    typed_draft,
)
from bot.slack.dependencies import SlackDeps
from bot.slack.mrkdwn import message_text, truncate_plain
from bot.slack.views import update_view
from bot.tickets.create import check_may_create, check_unlinked, create_ticket, prefill, untagged_replies
from bot.tickets.link import may_create, readable_report, report_of
from storage import systems
from storage.errors import BugTrackerError

log = logging.getLogger(__name__)
ERROR_LIMIT = 150
REPLIES_READ = 50  # thread replies read for the description


def register(app: App, deps: SlackDeps) -> Callable[[WebClient, dict[str, Any]], None]:
    """Wire the listeners; returns what `/bug create …` calls to open the modal (listeners/commands.py)."""
    store, actor_of, upstreams = deps.store, deps.actor_of, deps.upstreams
    readers, board = deps.readers, deps.board

    def fill(client: WebClient, view_id: str, user: str, report_id: str, system: str | None) -> None:
        """Put the prefilled form (or why there is none) into the opened modal."""
        try:
            systems = upstreams.available()
            if not systems:
                upstreams.creator(system or "shortcut")  # raises the reason: off, or not configured
            actor = actor_of(user)
            check_may_create(user, lambda _user: may_create(actor))
            report = readable_report(store, report_id, actor)
            channel = report.attributes.get("channel") or ""
            check_unlinked(report)
            system = system or systems[0]
            upstreams.creator(system)
            draft = prefill(report, _replies(client, channel, report.record_id))
            narrower = readers is not None and readers.narrower_than_workspace(channel)
            choices = form_choices(system)
            view = create_modal(report.home_id, channel, system, systems, draft, choices, narrower)
        except BugTrackerError as exc:
            view = message_modal(str(exc))
        update_view(client, view_id, view)

    def form_choices(system: str, cached: bool = False) -> FormChoices:
        """The Shortcut form's choices: cached, read from Shortcut when older than 10 minutes; `cached`:
        never from the network (a submission's checks run within Slack's 3 s)."""
        if system != "shortcut" or upstreams.shortcut is None:
            return FormChoices()
        choices = upstreams.shortcut.cached_choices() if cached else upstreams.shortcut.choices()
        if choices is None:
            return FormChoices()
        return FormChoices(
            states=[(str(state_id), label) for state_id, label in choices.state_options],
            default_state=str(choices.default_state_id) if choices.default_state_id else None,
            teams=list(choices.groups),
            projects=[(str(project_id), name) for project_id, name in choices.projects],
            priorities=tuple(
                p for p in ("Critical", "High", "Medium", "Low") if p in choices.priority_values
            ),
        )

    def open_modal(client: WebClient, trigger_id: str, user: str, report_id: str, system: str | None) -> None:
        # first, before any store read or upstream call: the trigger_id lives ~3 s
        opened = client.views_open(trigger_id=trigger_id, view=message_modal("Preparing the form…"))
        fill(client, opened["view"]["id"], user, report_id, system)

    @app.action(OPEN_ACTION)
    def on_open(ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        EVENTS_HANDLED.labels("create").inc()
        user, report_id = body["user"]["id"], action.get("value") or ""
        view = body.get("view")
        if view and view.get("type") == "modal":  # from the Link to ticket modal: it becomes the form
            if update_view(client, view["id"], message_modal("Preparing the form…")):
                fill(client, view["id"], user, report_id, None)
            return
        open_modal(client, body["trigger_id"], user, report_id, None)

    @app.action(SYSTEM_ACTION)
    def on_system(ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        view = body["view"]
        metadata = json.loads(view.get("private_metadata") or "{}")
        system = (action.get("selected_option") or {}).get("value") or ""
        try:
            upstreams.creator(system)
            report = report_of(store, metadata.get("report") or "")
            base = prefill(report)
            draft = typed_draft(view, base)  # what was typed so far stays
            systems = upstreams.available()
            channel = metadata.get("channel") or ""
            narrower = bool(metadata.get("confirm"))  # as when the form was opened
            new = create_modal(
                report.home_id, channel, system, systems, draft, form_choices(system), narrower
            )
        except BugTrackerError as exc:
            new = message_modal(str(exc))
        update_view(client, view["id"], new, view.get("hash"))

    def on_search(ack: Any, body: dict[str, Any]) -> None:
        """What a Shortcut select with more than 100 choices offers for the typed text: from the choices
        read when the form opened (memory only: Slack waits 3 s for the answer)."""
        choices = form_choices("shortcut", cached=True)
        offered = {STATE: choices.states, TEAM: choices.teams, PROJECT: choices.projects}
        ack(options=matching_options(offered.get(body.get("action_id") or "", []), body.get("value")))

    for searched in (STATE, TEAM, PROJECT):  # external_select: block_suggestion, over Socket Mode too
        app.options(searched)(on_search)

    @app.view(MODAL_CALLBACK)
    def on_submit(ack: Any, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user = body["user"]["id"]
        metadata = json.loads(view.get("private_metadata") or "{}")
        system = metadata.get("system") or ""
        draft, errors = read_form(view, form_choices(system, cached=True) if system == "shortcut" else None)
        if errors:  # checked from memory: well within Slack's 3 s
            ack(
                response_action="errors",
                errors={k: truncate_plain(v, ERROR_LIMIT) for k, v in errors.items()},
            )
            return
        name = systems.name(system)
        ack(response_action="update", view=message_modal(f"Creating it in {name}…"))
        EVENTS_HANDLED.labels("create").inc()
        try:
            actor = actor_of(user)
            report_id = readable_report(store, metadata.get("report") or "", actor).home_id
            allowed = may_create(actor)
            narrower = (
                metadata.get("channel") if metadata.get("confirm") else None
            )  # shown to its readers only
            created = create_ticket(
                store, upstreams, system, report_id, user, lambda _user: allowed, draft, visible_to=narrower
            )
        except BugTrackerError as exc:  # one line; the report is as it was
            update_view(client, view["id"], message_modal(f"Nothing was created: {exc}"))
            return
        # the thread answer first: the person may have closed the modal while it was being made
        text, blocks = created_blocks(created.ticket_id, created.system, created.url)
        channel = metadata.get("channel") or created.record.attributes.get("channel")
        if channel:
            thread_ts = created.report_id.split("-", 1)[1]
            key = f"create:{created.report_id}:{created.ticket_id}"
            post_answer(client, channel, thread_ts, key, text=message_text(text), blocks=blocks)
        if board is not None:  # the first reply becomes the status card of the new ticket
            board.ticket_changed(created.ticket_id)
        update_view(client, view["id"], message_modal(text))

    def from_command(client: WebClient, command: dict[str, Any]) -> None:
        """`/bug create SYSTEM SL-…` in Slack: the same modal, that system's form first."""
        words = (command.get("text") or "").split()
        system = words[1].lower() if len(words) > 1 else None
        report_id = words[2] if len(words) > 2 else ""
        open_modal(client, command["trigger_id"], command.get("user_id", "unknown"), report_id, system)

    return from_command


def _replies(client: WebClient, channel: str, report_ts: str) -> list[str]:
    """The thread's untagged replies by people, for the description (none when Slack cannot say)."""
    if not channel:
        return []
    try:
        page = client.conversations_replies(channel=channel, ts=report_ts, limit=REPLIES_READ)
    except SlackApiError as exc:  # the form opens without them
        log.info("create: thread of %s not read (%s)", report_ts, type(exc).__name__)
        return []
    return untagged_replies(page.get("messages") or [], report_ts)
