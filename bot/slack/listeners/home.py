"""The App Home tab: published when a person opens it (app_home_opened), and its "Link to …" buttons.
Thin: ack at once, link through bot/tickets/link.py (BUG_LINKERS or the report's author, stale buttons
answered), then publish the tab again with a line saying what happened."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.metrics.registry import EVENTS_HANDLED
from bot.slack.dependencies import SlackDeps
from bot.slack.home_blocks import HOME_LINK_PREFIX, build_home_view
from bot.slack.home_data import CachedCounts, HomeData, home_data
from bot.slack.mrkdwn import bold, escape, inert
from bot.slack.readers import EVERYTHING, Readers, ReadersUnavailable
from bot.suggest.service import Suggester
from bot.tickets.link import link_report
from storage.errors import BugTrackerError
from storage.store import BugStore
from storage.values import Counts

log = logging.getLogger(__name__)


def register(app: App, deps: SlackDeps) -> None:
    store, actor_of, suggester, board = deps.store, deps.actor_of, deps.suggester, deps.board
    readers, upstreams = deps.readers, deps.upstreams
    counts = CachedCounts(store)

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return  # the Messages tab
        EVENTS_HANDLED.labels("home").inc()
        publish_home(client, store, event["user"], suggester, counts, readers=readers)

    @app.action(re.compile(rf"^{HOME_LINK_PREFIX}\d+$"))
    def on_home_link(ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()  # within Slack's 3 s; the link and the new tab come after
        EVENTS_HANDLED.labels("home").inc()
        user = body["user"]["id"]
        report_id, _, target = (action.get("value") or "").partition(" ")
        try:
            result = link_report(store, report_id, target, actor_of(user), upstreams)
        except BugTrackerError as exc:  # refused, stale, unknown: said at the top of the tab
            notice = f":warning: Not linked: {inert(exc)}"
        else:
            where = bold(result.resolved_target)
            if result.already:
                notice = f"{escape(report_id)} was already linked to {where}; nothing changed."
            else:
                notice = (
                    f":white_check_mark: You linked {escape(report_id)} to {bold(result.resolved_target)}."
                )
                if board is not None:
                    board.ticket_changed(result.resolved_target)
        publish_home(client, store, user, suggester, counts, notice, readers)


def publish_home(
    client: WebClient,
    store: BugStore,
    user: str,
    suggester: Suggester | None,
    counts: CachedCounts,
    notice: str | None = None,
    readers: Readers | None = None,
) -> None:
    """The tab holds only what `user` may read (`readers`; None: everything); someone who reads no bug
    channel, or whose channels Slack cannot tell now, sees one line instead."""
    try:
        scope = readers.scope(user) if readers is not None else EVERYTHING
        refusal = None if scope.reads_any else readers.refusal() if readers is not None else None
    except ReadersUnavailable as exc:
        refusal = str(exc)
    if refusal is not None:
        data = HomeData(Counts(), refusal=refusal)
    else:
        data = home_data(store, user, suggester, counts, scope)
    client.views_publish(user_id=user, view=build_home_view(data, notice))
