"""Socket Mode: the connection to Slack (slack_sdk's built-in client, subclassed, never patched).

`SocketConnection` is Bolt's built-in handler rebuilt on the client of bot/slack/socket_client.py (whose
close always ends within its bound), subclassed once more here: the first connection uses the
URL apps.connections.open handed out when the app token was checked at start (bot/slack/startup.py), so
that call is made once per start; a reconnection asks for a new one, and a 429 there waits its Retry-After
(one line, no traceback). Every `hello` (a new connection is up) wakes the sweep, which catches up on the
bug channels (bot/slack/sweep.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin.client import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.metrics.registry import SOCKET_CONNECTED
from bot.slack.socket_client import StoppableSocketModeClient

log = logging.getLogger(__name__)

# Socket Mode envelopes handled at once: each waits for its listener's ack (at most 3 s) while the listener
# runs on the App's executor (bot/slack/app.py), so this is sized like that executor's two pools together.
SOCKET_THREADS = 24
MAX_RETRY_AFTER = 60.0


class _Client(StoppableSocketModeClient):
    def __init__(self, first_url: Callable[[], str] | None, **options: Any) -> None:
        super().__init__(**options)
        self._first_url = first_url

    def issue_new_wss_url(self) -> str:
        first, self._first_url = self._first_url, None
        if first is not None:
            return first()
        while True:
            try:
                return str(self.web_client.apps_connections_open(app_token=self.app_token)["url"])
            except SlackApiError as exc:
                if exc.response.status_code != 429 and exc.response.get("error") != "ratelimited":
                    raise
                wait = float(exc.response.headers.get("Retry-After", "30") or 30)
                log.warning("apps.connections.open rate-limited; connecting again in %.0f s", wait)
                time.sleep(min(wait, MAX_RETRY_AFTER))


class SocketConnection(BaseSocketModeHandler):
    def __init__(
        self,
        app: App,
        app_token: str,
        first_url: Callable[[], str] | None = None,
        on_hello: Callable[[], None] | None = None,
        concurrency: int = SOCKET_THREADS,
    ) -> None:
        """`first_url`: asks for the first WebSocket URL (bot/slack/startup.py verify_app_token: a refused
        token is one line, Slack unreachable is retried); `on_hello`: called on each new connection."""
        self.app = app
        self.on_hello = on_hello
        self.client = _Client(
            first_url,
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            proxy=app.client.proxy,
            concurrency=concurrency,
        )
        # slack_sdk types its listeners on the base client; handle takes the built-in one, which this is
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
        self.client.on_message_listeners.append(self._on_message)
        self.client.on_close_listeners.append(lambda *_: SOCKET_CONNECTED.set(0))

    # Bolt's base handler takes any Socket Mode client; this one is only ever called by its own built-in one
    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        start = time.time()
        send_response(client, req, run_bolt_app(self.app, req), start)

    def start(self) -> SocketConnection:
        """Connect (non-blocking: the client's own threads receive from here on)."""
        self.connect()
        log.info("connected to Slack over Socket Mode")
        return self

    def is_connected(self) -> bool:
        return self.client.is_connected()

    def _on_message(self, raw: str) -> None:
        if '"hello"' in raw and json.loads(raw).get("type") == "hello":  # a new connection is up
            SOCKET_CONNECTED.set(1)
            if self.on_hello is not None:
                self.on_hello()

    def stop(self, timeout: float = 5.0) -> bool:
        """Close (bounded: bot/slack/socket_client.py); events queued but not started are delivered again."""
        log.info("shutting down the Socket Mode connection")
        self.client.close()
        return not self.client.is_connected()
