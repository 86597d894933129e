"""Socket Mode: connect (non-blocking); the sweep catches up on the bug channels on every new connection."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from slack_bolt import App

from bot.config import SlackConfig
from bot.metrics.registry import SOCKET_CONNECTED
from bot.slack.claims import Claims
from bot.slack.intake import Intake, IntakeResult
from bot.slack.listeners import messages as message_listeners
from bot.slack.socket_client import StoppableSocketModeHandler
from bot.slack.startup import verify_app_token
from bot.slack.status_board import StatusBoard
from bot.slack.sweep import Sweeper
from bot.suggest.service import Suggester

log = logging.getLogger(__name__)


def start_socket_mode(
    app: App,
    config: SlackConfig,
    intake: Intake,
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
    stop: threading.Event | None = None,
) -> Any:
    """Connect (non-blocking) and return the SocketModeHandler; sweep (catch up) on every `hello` and
    every SLACK_SWEEP_SECONDS (bot/slack/sweep.py). `handler.close()` stops both."""
    # slack_sdk's close can hang; this one ends within its bound (bot/slack/socket_client.py)
    handler = StoppableSocketModeHandler(app, config.app_token)
    claims = Claims(intake.store)

    def answer(channel: str, result: IntakeResult) -> None:
        message_listeners.post_reply(
            app.client, channel, result, suggester, board, claims, intake.create_button
        )

    sweeper = Sweeper(app.client, intake, config.channel_ids, answer, config.sweep_seconds).start()

    def on_message(raw: str) -> None:
        if '"hello"' in raw and json.loads(raw).get("type") == "hello":  # a new connection is up
            SOCKET_CONNECTED.set(1)
            sweeper.wake()

    handler.client.on_message_listeners.append(on_message)
    handler.client.on_close_listeners.append(lambda *_: SOCKET_CONNECTED.set(0))
    close = handler.close

    def close_all() -> None:
        sweeper.stop()
        close()

    handler.close = close_all
    handler.sweeper = sweeper
    try:  # SLACK_APP_TOKEN refused: one line; Slack unreachable: retried until `stop`
        verify_app_token(app.client, config.app_token, stop)
        handler.connect()
    except BaseException:
        close_all()
        raise
    log.info("connected to Slack over Socket Mode")
    return handler
