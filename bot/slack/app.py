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
from bot.slack.directory import Directory, DirectoryReader
from bot.slack.intake import Intake
from bot.slack.listeners import commands as command_listeners
from bot.slack.listeners import create as create_listeners
from bot.slack.listeners import home as home_listeners
from bot.slack.listeners import link_modal as link_modal_listeners
from bot.slack.listeners import members as member_listeners
from bot.slack.listeners import messages as message_listeners
from bot.slack.listeners import suggestions as suggestion_listeners
from bot.slack.readers import Readers
from bot.slack.status_board import StatusBoard
from bot.slack.sweep import fetch_message
from bot.suggest.service import Suggester
from bot.tickets.upstreams import NO_UPSTREAMS, Upstreams
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
    upstreams: Upstreams | None = None,
    identity: dict[str, Any] | None = None,
    directory: Directory | None = None,
) -> tuple[App, Intake]:
    """`identity`: auth.test's answer when the caller already asked (bot/slack/startup.py). `directory`: the
    guest / outsider map (None: one for this workspace, read in the background from now on)."""
    identity = identity if identity is not None else client.auth_test().data
    app = App(client=client, logger=_bolt_logger(), token_verification_enabled=False)
    share_client(app, client)
    if directory is None:
        directory = Directory(client, identity.get("team_id"))
        DirectoryReader(directory).start()
    readers = Readers(client, config.channel_ids, config.readers, config.linkers, directory=directory)
    intake = Intake(
        store,
        workspace_url=identity.get("url"),
        actor_of=readers.actor,  # a tag links as its poster, by the readers' rule
        thread_replies=config.thread_replies,
        fetch_message=fetch_message(client),
        intake_bots=config.intake_bots,
    )
    intake.own = (identity.get("user_id"), identity.get("bot_id"))  # our own posts are never reports
    intake.create_button = upstreams is not None and bool(upstreams.available())
    intake.upstreams = upstreams
    register_listeners(app, store, intake, config, suggester, board, readers, upstreams)
    return app, intake


def share_client(app: App, client: WebClient) -> None:
    """Every listener gets the process's client, not a new WebClient per request (Bolt's default, which would
    drop the client's pacing: bot/slack/pacing.py)."""

    @app.middleware
    def use_shared_client(context: Any, next: Any) -> None:  # noqa: A002 - Bolt's argument name
        context["client"] = client
        next()


class _NoTokenWarning(logging.Filter):
    """Bolt warns "`token` will be unused" whenever SLACK_BOT_TOKEN is set and a client is given, which is
    always the case here and misleads (the client carries that same token)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("bot.slack.bolt")  # held at INFO by bot/logging_setup.py
    if not any(isinstance(existing, _NoTokenWarning) for existing in logger.filters):
        logger.addFilter(_NoTokenWarning())
    return logger


def register_listeners(
    app: App,
    store: BugStore,
    intake: Intake,
    config: SlackConfig,
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
    readers: Readers | None = None,
    upstreams: Upstreams | None = None,
) -> None:
    """`readers` (who may read which channel's reports): every surface but the console asks it."""
    readers = readers or Readers(app.client, config.channel_ids, config.readers, config.linkers)
    if board is not None:
        # a card in channel X shows only what X may read; Slack failing: the card waits (strict)
        board.fits_channel = lambda channel, record: readers.fits_channel(channel, record, strict=True)
    if suggester is not None:
        suggester.fits_channel = readers.fits_channel  # and so does a thread's list of look-alikes
    message_listeners.register(app, intake, config.channel_ids, suggester, board)
    member_listeners.register(app, readers)
    upstreams = upstreams or NO_UPSTREAMS
    actor_of = readers.actor  # who may link, create and delete: bot/tickets/link.py's one rule
    open_create = create_listeners.register(app, store, actor_of, upstreams, readers, board)
    command_listeners.register(app, store, actor_of, board, readers, upstreams, open_create)
    suggestion_listeners.register(app, store, actor_of, board, upstreams)
    link_modal_listeners.register(
        app, intake, config.channel_ids, actor_of, suggester, board, readers, upstreams
    )
    home_listeners.register(app, store, actor_of, suggester, board, readers, upstreams)

    @app.error
    def handle_error(error: Exception, body: dict[str, Any], respond: Any, logger: logging.Logger) -> None:
        ERRORS.inc()
        logger.error("unexpected error handling a Slack request", exc_info=error)
        if respond is not None and body.get("response_url"):
            respond(text=ERROR_LINE, response_type="ephemeral")
