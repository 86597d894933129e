"""The "Link to ticket…" message shortcut and its modal.

Slack's 3-second rule: a trigger_id expires about 3 s after the click, and a view submission must be acked
within 3 s for its errors to show. So the shortcut opens a "checking…" modal at once (views.open before any
store read or permission check), then stores the report when it never was, checks that the person may link
it, and fills the modal (views.update) with the top suggestions and a free ticket-id input, or with why it
cannot be linked. On submit, the id and the permission are checked under a 2-second budget before the modal
closes (a bad or unknown id is an error in the modal, via response_action "errors"; checks that cannot
finish in time, a slow store, say so in the same way); then the report is linked and its thread reply
updated (or one is posted).
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as CheckTimeout
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from adapters import slack_message
from bot.metrics.registry import EVENTS_HANDLED
from bot.slack.answers import post_answer
from bot.slack.delivery import Delivery
from bot.slack.dependencies import SlackDeps
from bot.slack.intake import Intake
from bot.slack.listeners.suggestions import tell
from bot.slack.modal_blocks import checking_modal, refusal_modal
from bot.slack.mrkdwn import message_text, truncate_plain
from bot.slack.readers import EVERYTHING
from bot.slack.suggestion_blocks import (
    MODAL_CALLBACK,
    SHORTCUT_CALLBACK,
    TICKET_BLOCK,
    link_modal,
    linked_note,
    modal_choice,
    text_without_suggestions,
    without_suggestions,
)
from bot.slack.views import update_view
from bot.tickets.link import check_may_link, check_target, link_report, readable_report
from storage.errors import BugTrackerError, LinkRefused
from storage.model import BugRecord

log = logging.getLogger(__name__)
ERROR_LIMIT = 150  # an error under a modal's input: plain text, kept short
SUBMIT_BUDGET_SECONDS = 2.0  # checks before a submission's ack: Slack waits 3 s for it, the rest is transit
TOO_SLOW = "Still checking (the bug store is slow right now); press Link again in a moment."


def register(app: App, deps: SlackDeps) -> None:
    intake, channels, actor_of, suggester = deps.intake, deps.channels, deps.actor_of, deps.suggester
    board, readers, upstreams, delivery = deps.board, deps.readers, deps.upstreams, deps.delivery
    store = intake.store
    can_create = upstreams is not None and bool(upstreams.available())
    # the submit checks run here so that the ack can go when the budget is spent (created per app, not
    # at import time; threads start only when a check runs)
    checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="link-modal-checks")

    @app.shortcut(SHORTCUT_CALLBACK)
    def on_shortcut(ack: Any, shortcut: dict[str, Any], client: WebClient, respond: Any) -> None:
        ack()
        EVENTS_HANDLED.labels("shortcut").inc()
        user, channel = shortcut["user"]["id"], (shortcut.get("channel") or {}).get("id")
        if channel not in channels:
            tell(respond, "Link to ticket works on messages in the bug channel.")
            return
        # first, before any store read or Slack call that may be slow: the trigger_id lives ~3 s
        opened = client.views_open(trigger_id=shortcut["trigger_id"], view=checking_modal())
        view_id = opened["view"]["id"]
        try:
            scope = readers.scope(user) if readers is not None else EVERYTHING
            if not scope.may_read_channel(channel):  # a guest in the channel, or Slack cannot tell
                refusal = readers.refusal() if readers is not None else ""
                update_view(client, view_id, refusal_modal(refusal))
                return
            report = stored_report(intake, delivery, shortcut.get("message") or {}, channel)
            check_may_link(report, actor_of(user), store)
            if report.location != report.home_id:
                raise LinkRefused(
                    f"{report.home_id} is already linked to {report.location}; "
                    f"`/bug unlink {report.home_id}` first to link it elsewhere"
                )
        except BugTrackerError as exc:
            update_view(client, view_id, refusal_modal(str(exc)))
            return
        # shown to this person, about a report of this channel: what both may show
        suggestions = (
            suggester.suggest_for(report, lambda s: scope.may_read(s) and readers.fits_channel(channel, s))
            if suggester is not None
            else []
        )
        update_view(
            client,
            view_id,
            link_modal(report.home_id, report.title, suggestions, channel, can_create=can_create),
        )

    @app.view(MODAL_CALLBACK)
    def on_submit(
        ack: Any, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: Any
    ) -> None:
        started = time.monotonic()
        user = body["user"]["id"]
        metadata = json.loads(view.get("private_metadata") or "{}")
        typed, picked = modal_choice(view)

        def check() -> tuple[BugRecord, str]:
            actor = actor_of(user)
            report = readable_report(store, metadata.get("report") or "", actor)
            check_may_link(report, actor, store)
            if not (typed or picked):
                raise LinkRefused("pick a suggested ticket or type a ticket id")
            return report, check_target(store, report, typed or picked or "")

        checking = checks.submit(check)
        try:  # checked before the modal closes: what is wrong shows in the modal
            report, target = checking.result(max(0.0, SUBMIT_BUDGET_SECONDS - (time.monotonic() - started)))
        except CheckTimeout:  # the checks go on and are dropped (they only read): nothing changed
            log.warning(
                "link modal: checks took over %.0f s; asked %s to try again", SUBMIT_BUDGET_SECONDS, user
            )
            ack(response_action="errors", errors={TICKET_BLOCK: TOO_SLOW})
            return
        except BugTrackerError as exc:
            ack(response_action="errors", errors={TICKET_BLOCK: truncate_plain(str(exc), ERROR_LIMIT)})
            return
        ack()
        EVENTS_HANDLED.labels("shortcut").inc()
        channel: str = metadata.get("channel") or report.attributes["channel"]  # a Slack report's channel
        try:
            result = link_report(store, report.home_id, target, actor_of(user), upstreams)
        except BugTrackerError as exc:  # changed between the check and now (a race): say so
            client.chat_postEphemeral(channel=channel, user=user, text=message_text(f"Not linked: {exc}"))
            return
        note = linked_note(user, report.home_id, result.resolved_target)
        bot_user_id, target = context.get("bot_user_id"), result.resolved_target

        def tell_thread() -> None:
            update_thread(client, channel, report.record_id, note, bot_user_id)
            if board is not None:  # then the reply becomes the report's status card
                board.ticket_changed(target)

        # after the report's own answer if it still waits (a report the shortcut itself just stored), so
        # the note edits that answer instead of racing it; and off this listener thread
        delivery.answers.then(channel, tell_thread, f"the link note of {report.home_id}")


def stored_report(intake: Intake, delivery: Delivery, message: dict[str, Any], channel: str) -> BugRecord:
    """The report the shortcut was used on, stored first when it never was (through the delivery, so that
    the insert's answer is queued: the shortcut may come before the message's own event, which then finds
    it stored and earns no answer). On a thread reply: its report."""
    if slack_message.is_thread_reply(message):
        parent = intake.store.get_record("slack", message["thread_ts"])
        if parent is None:
            raise LinkRefused("use Link to ticket on the first message of the thread (the report)")
        return parent
    stored = intake.store.get_record("slack", message.get("ts") or "")
    if stored is not None:
        return stored
    report = intake.as_report(message)
    if report is None:
        raise LinkRefused("Link to ticket works on a person's message (or a form's), not on a bot's")
    delivery.store_report(report, channel)
    stored = intake.store.get_record("slack", message["ts"])
    if stored is None:  # ingest stores it or raises: only a concurrent delete gets here
        raise LinkRefused("that message could not be stored (deleted meanwhile?); nothing changed")
    return stored


def update_thread(
    client: WebClient, channel: str, report_ts: str, note: str, bot_user_id: str | None
) -> None:
    """Change the bot's reply in the report's thread to say who linked what, or post one."""
    replies = client.conversations_replies(channel=channel, ts=report_ts, limit=20).get("messages") or []
    ours = next(
        (m for m in replies if m.get("ts") != report_ts and m.get("user") == bot_user_id and bot_user_id),
        None,
    )
    if ours is None:  # an answer like any other: posted once even if Slack's reply to it is lost
        post_answer(client, channel, report_ts, f"link:{channel}:{report_ts}:{note}"[:200], text=note)
        return
    client.chat_update(
        parse="none",
        channel=channel,
        ts=ours["ts"],
        text=text_without_suggestions(ours.get("text") or "", note),
        blocks=without_suggestions(ours.get("blocks") or [], note),
    )
