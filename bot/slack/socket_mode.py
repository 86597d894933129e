"""Socket Mode: connect (non-blocking) and catch up on the bug channels on every new connection."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import SlackConfig
from bot.metrics.registry import ERRORS, SOCKET_CONNECTED
from bot.slack.intake import Intake
from bot.slack.listeners import messages as message_listeners
from bot.status import StatusBoard
from bot.suggest.service import Suggester

log = logging.getLogger(__name__)


def history_reader(client: WebClient, channel: str):
    """conversations.history since `oldest`, every page, oldest message first."""

    def read(oldest: str | None) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = client.conversations_history(
                channel=channel, oldest=oldest or "0", limit=200, cursor=cursor
            )
            messages.extend(page.get("messages") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return sorted(messages, key=lambda message: float(message["ts"]))

    return read


class CatchUp:
    """Runs catch-up for every bug channel on each new Socket Mode connection (start and reconnects)."""

    def __init__(
        self,
        app: App,
        intake: Intake,
        channels: tuple[str, ...],
        suggester: Suggester | None = None,
        board: StatusBoard | None = None,
    ) -> None:
        self.app, self.intake, self.channels = app, intake, channels
        self.suggester, self.board = suggester, board
        self._lock = threading.Lock()

    def run(self) -> None:
        with self._lock:  # two quick reconnects: one catch-up at a time, the second finds nothing new
            for channel in self.channels:
                key = f"slack:last_ts:{channel}"
                if self.intake.store.get_meta(key) is None:
                    # first start ever: begin now rather than answering the channel's whole past
                    self.intake.store.put_meta(key, {"ts": f"{time.time():.6f}"})
                    continue
                results = self.intake.catch_up(channel, history_reader(self.app.client, channel))
                for result in results:
                    message_listeners.post_reply(self.app.client, channel, result, self.suggester, self.board)
                log.info("catch-up %s: %d message(s) read", channel, len(results))

    def in_background(self) -> None:
        threading.Thread(target=self._safe_run, name="slack-catch-up", daemon=True).start()

    def _safe_run(self) -> None:
        try:
            self.run()
        except Exception:  # a failed catch-up must not kill the socket; the next reconnect retries
            ERRORS.inc()
            log.exception("catch-up failed")


def start_socket_mode(
    app: App,
    config: SlackConfig,
    intake: Intake,
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
) -> Any:
    """Connect (non-blocking) and return the SocketModeHandler; catch up on every `hello`."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, config.app_token)
    catch_up = CatchUp(app, intake, config.channel_ids, suggester, board)

    def on_message(raw: str) -> None:
        if '"hello"' in raw and json.loads(raw).get("type") == "hello":  # a new connection is up
            SOCKET_CONNECTED.set(1)
            catch_up.in_background()

    handler.client.on_message_listeners.append(on_message)
    handler.client.on_close_listeners.append(lambda *_: SOCKET_CONNECTED.set(0))
    handler.connect()
    log.info("connected to Slack over Socket Mode")
    return handler
