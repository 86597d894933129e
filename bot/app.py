"""Build the Bolt App (with an injected WebClient), register the listeners, start Socket Mode.

One `@app.error` handler for the whole app: it logs the traceback and tells the user one line.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import SlackConfig
from bot.intake import Intake
from bot.listeners import commands as command_listeners
from bot.listeners import messages as message_listeners
from bot.permissions import LinkerCheck
from bot.telemetry import ERRORS, SOCKET_CONNECTED
from storage.store import BugStore

log = logging.getLogger(__name__)

ERROR_LINE = (
    "Sorry, something went wrong on my side; it is logged. Your message is not lost if it was stored."
)


def build_app(config: SlackConfig, store: BugStore, client: WebClient) -> tuple[App, Intake]:
    app = App(client=client, logger=logging.getLogger("bot.slack"))
    identity = client.auth_test()
    intake = Intake(
        store,
        workspace_url=identity.get("url"),
        may_link=LinkerCheck(client, config.linkers),
        thread_replies=config.thread_replies,
    )
    register_listeners(app, store, intake, config)
    return app, intake


def register_listeners(app: App, store: BugStore, intake: Intake, config: SlackConfig) -> None:
    message_listeners.register(app, intake, config.channel_ids)
    command_listeners.register(app, store, intake.may_link)

    @app.error
    def handle_error(error: Exception, body: dict[str, Any], respond: Any, logger: logging.Logger) -> None:
        ERRORS.inc()
        logger.error("unexpected error handling a Slack request", exc_info=error)
        if respond is not None and body.get("response_url"):
            respond(text=ERROR_LINE, response_type="ephemeral")


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

    def __init__(self, app: App, intake: Intake, channels: tuple[str, ...]) -> None:
        self.app, self.intake, self.channels = app, intake, channels
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
                    message_listeners.post_reply(self.app.client, channel, result)
                log.info("catch-up %s: %d message(s) read", channel, len(results))

    def in_background(self) -> None:
        threading.Thread(target=self._safe_run, name="slack-catch-up", daemon=True).start()

    def _safe_run(self) -> None:
        try:
            self.run()
        except Exception:  # a failed catch-up must not kill the socket; the next reconnect retries
            ERRORS.inc()
            log.exception("catch-up failed")


def start_socket_mode(app: App, config: SlackConfig, intake: Intake) -> Any:
    """Connect (non-blocking) and return the SocketModeHandler; catch up on every `hello`."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, config.app_token)
    catch_up = CatchUp(app, intake, config.channel_ids)

    def on_message(raw: str) -> None:
        if '"hello"' in raw and json.loads(raw).get("type") == "hello":  # a new connection is up
            SOCKET_CONNECTED.set(1)
            catch_up.in_background()

    handler.client.on_message_listeners.append(on_message)
    handler.client.on_close_listeners.append(lambda *_: SOCKET_CONNECTED.set(0))
    handler.connect()
    log.info("connected to Slack over Socket Mode")
    return handler
