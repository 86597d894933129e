"""A local fake Slack: the Web API over HTTP and a Socket Mode WebSocket server, on 127.0.0.1 free ports.

Speaks the real wire format so that the real WebClient and the real SocketModeHandler talk to it:
`apps.connections.open` hands out this server's ws:// URL, every connection gets a `hello`, envelopes
(`events_api`, `slash_commands`) are pushed and their acks recorded; `response_url` POSTs land in
`responses`, `chat.postMessage` calls in `posts`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

WORKSPACE_URL = "https://fake-workspace.slack.com/"
BOT_USER_ID = "U0BOT"
POLL_INTERVAL = 0.02  # seconds between serve_forever's shutdown checks: stop() is quick


class FakeSlack:
    def __init__(self, groups: dict[str, list[str]] | None = None) -> None:
        self.posts: list[dict[str, Any]] = []  # chat.postMessage arguments
        self.responses: list[dict[str, Any]] = []  # response_url bodies
        self.acks: dict[str, dict[str, Any]] = {}  # envelope_id -> ack
        self.calls: list[str] = []  # Web API method names, in order
        self.history: dict[str, list[dict[str, Any]]] = {}  # channel -> top-level messages
        self.groups = groups or {}
        self.connections: list[ServerConnection] = []
        self.connected_total = 0
        self._changed = threading.Condition()
        self._ids = itertools.count(1)
        self._clock = time.time() - 3600  # message ts values, strictly increasing
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._http_handler())
        self._ws = serve(self._on_socket, "127.0.0.1", 0, ping_interval=None)
        self._threads = [
            threading.Thread(
                target=self._http.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
            ),
            threading.Thread(target=self._ws.serve_forever, daemon=True),
        ]

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/api/"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._ws.socket.getsockname()[1]}/link"

    def start(self) -> FakeSlack:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._ws.shutdown()
        self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (value := condition()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake Slack: condition not met within {timeout}s")
                self._changed.wait(min(left, 0.2))
            return value

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # -- what a test does as "Slack" -------------------------------------------------------------
    def next_ts(self) -> str:
        with self._changed:
            self._clock = max(self._clock + 0.000001, time.time())
            return f"{self._clock:.6f}"

    def message(self, channel: str, text: str, user: str = "U0ALICE", **extra: Any) -> dict[str, Any]:
        """A message as it appears in the channel (and in conversations.history when top-level)."""
        message = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": extra.pop("ts", None) or self.next_ts(),
        }
        message.update(extra)
        if not message.get("thread_ts") or message["thread_ts"] == message["ts"]:
            self.history.setdefault(channel, []).append(message)
        return message

    def push_event(
        self, event: dict[str, Any], retry_attempt: int = 0, envelope_id: str | None = None
    ) -> str:
        envelope_id = envelope_id or f"env-{next(self._ids)}"
        payload = {
            "token": "fake",
            "team_id": "T0FAKE",
            "api_app_id": "A0FAKE",
            "event": {"event_ts": event.get("ts", self.next_ts()), **event},
            "type": "event_callback",
            "event_id": f"Ev{envelope_id}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0FAKE", "user_id": BOT_USER_ID, "is_bot": True}],
        }
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        self._send(envelope)
        return envelope_id

    def post(
        self, channel: str, text: str, user: str = "U0ALICE", **extra: Any
    ) -> tuple[dict[str, Any], str]:
        """A person posts: the message joins the history and its event is pushed; (message, env id)."""
        message = self.message(channel, text, user, **extra)
        return message, self.push_event({**message, "channel": channel, "channel_type": "channel"})

    def push_command(self, text: str, user: str = "U0ALICE", channel: str = "C0BUGS") -> str:
        envelope_id = f"env-{next(self._ids)}"
        payload = {
            "token": "fake",
            "team_id": "T0FAKE",
            "team_domain": "fake-workspace",
            "channel_id": channel,
            "channel_name": "bugs",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/bug",
            "text": text,
            "api_app_id": "A0FAKE",
            "response_url": f"{self.api_url.removesuffix('/api/')}/respond/{envelope_id}",
            "trigger_id": f"trigger-{envelope_id}",
        }
        self._send(
            {
                "envelope_id": envelope_id,
                "payload": payload,
                "type": "slash_commands",
                "accepts_response_payload": True,
            }
        )
        return envelope_id

    def response_to(self, envelope_id: str) -> dict[str, Any] | None:
        return next((r for r in self.responses if r["_path"].endswith(f"/{envelope_id}")), None)

    def disconnect_all(self) -> None:
        for connection in list(self.connections):
            connection.close()

    def _send(self, envelope: dict[str, Any]) -> None:
        self.wait_for(lambda: self.connections, timeout=10)
        self.connections[-1].send(json.dumps(envelope))

    # -- the Socket Mode side --------------------------------------------------------------------
    def _on_socket(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}}))
        with self._changed:
            self.connections.append(connection)
            self.connected_total += 1
            self._changed.notify_all()
        try:
            for raw in connection:
                ack = json.loads(raw)
                with self._changed:
                    self.acks[ack["envelope_id"]] = ack
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                if connection in self.connections:
                    self.connections.remove(connection)
                self._changed.notify_all()

    # -- the Web API side ------------------------------------------------------------------------
    def _api(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(method)
        if method == "auth.test":
            return {"ok": True, "url": WORKSPACE_URL, "team": "Fake", "user": "bugbot", "team_id": "T0FAKE",
                    "user_id": BOT_USER_ID, "bot_id": "B0BOT"}  # fmt: skip
        if method == "apps.connections.open":
            return {"ok": True, "url": self.ws_url}
        if method == "chat.postMessage":
            ts = self.next_ts()
            with self._changed:
                self.posts.append(args)
                self._changed.notify_all()
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text")},
            }
        if method == "conversations.history":
            oldest = float(args.get("oldest") or 0)
            found = [m for m in self.history.get(args.get("channel"), []) if float(m["ts"]) > oldest]
            found.sort(key=lambda m: float(m["ts"]), reverse=True)  # Slack: newest first
            start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
            page = found[start : start + limit]
            more = start + limit < len(found)
            return {"ok": True, "messages": page, "has_more": more,
                    "response_metadata": {"next_cursor": str(start + limit) if more else ""}}  # fmt: skip
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.groups.get(args.get("usergroup"), [])}
        return {"ok": False, "error": "unknown_method"}

    def _http_handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                url = urlparse(self.path)
                if "json" in (self.headers.get("Content-Type") or ""):
                    args = json.loads(raw or "{}")
                else:
                    args = dict(parse_qsl(raw))
                args.update(dict(parse_qsl(url.query)))
                if url.path.startswith("/respond/"):
                    with fake._changed:
                        fake.responses.append({**args, "_path": url.path})
                        fake._changed.notify_all()
                    body = {"ok": True}
                else:
                    body = fake._api(url.path.removeprefix("/api/"), args)
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *_: object) -> None:  # keep test output quiet
                pass

        return Handler
