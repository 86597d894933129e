"""Build the Bolt App (with an injected WebClient) and register the listeners.

One `@app.error` handler for the whole app: it logs the traceback and tells the user one line.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import SlackConfig
from bot.metrics.registry import ERRORS
from bot.slack.intake import Intake
from bot.slack.listeners import commands as command_listeners
from bot.slack.listeners import home as home_listeners
from bot.slack.listeners import link_modal as link_modal_listeners
from bot.slack.listeners import messages as message_listeners
from bot.slack.listeners import suggestions as suggestion_listeners
from bot.slack.permissions import LinkerCheck
from bot.slack.status_board import StatusBoard
from bot.slack.sweep import fetch_message
from bot.suggest.service import Suggester
from storage.store import BugStore

log = logging.getLogger(__name__)

ERROR_LINE = (
    "Sorry, something went wrong on my side; it is logged. Your message is not lost if it was stored."
)


def build_app(
    config: SlackConfig,
    store: BugStore,
    client: WebClient,
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
) -> tuple[App, Intake]:
    app = App(client=client, logger=logging.getLogger("bot.slack"))
    identity = client.auth_test()
    intake = Intake(
        store,
        workspace_url=identity.get("url"),
        may_link=LinkerCheck(client, config.linkers),
        thread_replies=config.thread_replies,
        fetch_message=fetch_message(client),
        intake_bots=config.intake_bots,
    )
    intake.own = (identity.get("user_id"), identity.get("bot_id"))  # our own posts are never reports
    register_listeners(app, store, intake, config, suggester, board)
    return app, intake


def register_listeners(
    app: App,
    store: BugStore,
    intake: Intake,
    config: SlackConfig,
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
) -> None:
    message_listeners.register(app, intake, config.channel_ids, suggester, board)
    command_listeners.register(app, store, intake.may_link, board)
    suggestion_listeners.register(app, store, intake.may_link, board)
    link_modal_listeners.register(app, intake, config.channel_ids, intake.may_link, suggester, board)
    home_listeners.register(app, store, intake.may_link, suggester, board)

    @app.error
    def handle_error(error: Exception, body: dict[str, Any], respond: Any, logger: logging.Logger) -> None:
        ERRORS.inc()
        logger.error("unexpected error handling a Slack request", exc_info=error)
        if respond is not None and body.get("response_url"):
            respond(text=ERROR_LINE, response_type="ephemeral")
