"""A local fake Slack: the Web API over HTTP and a Socket Mode WebSocket server, on 127.0.0.1 free ports.

Speaks the real wire format so that the real WebClient and the real SocketModeHandler talk to it:
`apps.connections.open` hands out this server's ws:// URL, every connection gets a `hello`, envelopes
(`events_api`, `slash_commands`, `interactive`: block_actions, message_action, view_submission) are pushed
and their acks recorded; `response_url` POSTs land in `responses`, `chat.postMessage` calls in `posts`,
`chat.update` in `updates`, `chat.postEphemeral` in `ephemerals`, `views.open` in `views`, `views.publish`
in `published` (user -> the Home view now), `views.update` in `view_updates`; `app_home_opened` events and
button presses in a Home view are pushed too. Messages come in Slack's shapes: a person's, a Workflow
Builder form's (`workflow_message`), an edit and an unfurl (`message_changed` with and without `edited`).
Posts keep their `metadata` (returned by `conversations.replies` and `conversations.history` only with
`include_all_metadata`, as Slack does; the bot's top-level posts are in the channel's history), and
`lose_answers` makes a post land and its answer fail (HTTP 500 or a dropped connection).

Channels have members (`members`: channel -> user ids; whoever posts in a channel is one, as in Slack):
`conversations.members` pages them with opaque cursors, `join` / `leave` change them and push
`member_joined_channel` / `member_left_channel`; `users.info` and `users.list` (paged) flag the `guests`
(multi- or single-channel), people of another organisation (`teams`: their `team_id`) and Slack Connect
`strangers` (`is_stranger`; users.list does not list them); `conversations.info` names channels
(`channel_names`) and says `is_ext_shared` for the `shared` ones. A channel the fake never heard of is
`channel_not_found`, and `fail(method, error)` makes a method answer an error, as Slack does.

Not kinder than Slack: `views.open` needs a trigger_id this fake handed out less than 3 s ago, `chat.update`
needs a message the bot posted, and blocks over Slack's limits are refused with `invalid_blocks`.
"""

from __future__ import annotations

import base64
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
    def __init__(
        self,
        groups: dict[str, list[str]] | None = None,
        members: dict[str, list[str]] | None = None,
        guests: dict[str, str] | None = None,
        channel_names: dict[str, str] | None = None,
        teams: dict[str, str] | None = None,
        strangers: tuple[str, ...] = (),
        shared: tuple[str, ...] = (),
    ) -> None:
        self.members: dict[str, list[str]] = {c: list(users) for c, users in (members or {}).items()}
        self.guests = dict(guests or {})  # user -> "multi" (is_restricted) or "single" (is_ultra_restricted)
        self.teams = dict(teams or {})  # user -> another organisation's team id (listed by users.list)
        self.strangers = set(strangers)  # Slack Connect people, not in users.list (users.info: is_stranger)
        self.shared = set(shared)  # externally shared channels (conversations.info: is_ext_shared)
        self.channel_names = {"C0BUGS": "bugs", **(channel_names or {})}
        self._failing: dict[str, str] = {}  # method -> the error it answers
        self.posts: list[dict[str, Any]] = []  # chat.postMessage arguments
        self.responses: list[dict[str, Any]] = []  # response_url bodies
        self.acks: dict[str, dict[str, Any]] = {}  # envelope_id -> ack
        self.sent_at: dict[str, float] = {}  # envelope_id -> when it went out (time.monotonic())
        self.acked_at: dict[str, float] = {}  # envelope_id -> when its ack came back
        self.calls: list[str] = []  # Web API method names, in order
        self.history: dict[str, list[dict[str, Any]]] = {}  # channel -> top-level messages
        self.replies: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (channel, thread_ts) -> people's
        self._limited: dict[str, tuple[int, int]] = {}  # method -> (429s left to answer, Retry-After)
        self.rate_limited: list[str] = []  # methods answered with 429, in order
        self._lost: list[str] = []  # failures of the next posts that land: "500" or "drop"
        self.refused: dict[str, str] = {}  # token -> the error Slack answers every call made with it
        self.updates: list[dict[str, Any]] = []  # chat.update arguments
        self.ephemerals: list[dict[str, Any]] = []  # chat.postEphemeral arguments
        self.views: list[dict[str, Any]] = []  # views.open arguments, "view" decoded
        self.closed_views: set[str] = set()  # modals the person closed: views.update answers not_found
        self.close_at_once = False  # True: every modal opened is closed at once (before any views.update)
        self.published: dict[str, dict[str, Any]] = {}  # views.publish: user id -> their Home view now
        self.publishes: list[dict[str, Any]] = []  # views.publish arguments, in order, "view" decoded
        self.view_updates: list[dict[str, Any]] = []  # views.update arguments, "view" decoded
        self.bot_messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> what the bot posted
        self._triggers: dict[str, float] = {}  # trigger_id -> when it was handed out
        self.groups = groups or {}
        self.connections: list[ServerConnection] = []
        self.spread = False  # True: envelopes go round the open connections, as Slack spreads them
        self._spread = itertools.count()
        self.connected_total = 0
        self._changed = threading.Condition()
        self._stalled: set[str] = set()  # Web API methods whose calls get no answer until stop()
        self.stalled_calls = 0  # calls now waiting on a stalled method
        self._released = threading.Event()
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
        self._released.set()  # stalled calls get their answer, so the server can shut down
        self._ws.shutdown()
        self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stall(self, method: str) -> None:
        """Calls of `method` from now on hang (a Slack that takes the request and does not answer) until the
        fake stops; `stalled_calls` counts those waiting."""
        with self._changed:
            self._stalled.add(method)

    def _wait_if_stalled(self, method: str) -> None:
        with self._changed:
            if method not in self._stalled:
                return
            self.stalled_calls += 1
            self._changed.notify_all()
        self._released.wait()

    def wait_for(self, condition: Callable[[], Any], timeout: float = 30.0) -> Any:  # bounds a failure only
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

    def message(self, channel: str, text: str, user: str | None = "U0ALICE", **extra: Any) -> dict[str, Any]:
        """A message as it appears in the channel (and in conversations.history when top-level); `user`
        None: none (a bot's post)."""
        message = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": extra.pop("ts", None) or self.next_ts(),
        }
        if user is None:
            del message["user"]
        message.update(extra)
        with self._changed:  # only members post in a channel
            joined = self.members.setdefault(channel, [])
            if user not in joined:
                joined.append(user)
        if not message.get("thread_ts") or message["thread_ts"] == message["ts"]:
            self.history.setdefault(channel, []).append(message)
        else:  # a reply: kept in its thread, the parent's reply_count / latest_reply move as in Slack
            self.replies.setdefault((channel, message["thread_ts"]), []).append(message)
            for parent in self.history.get(channel, []):
                if parent["ts"] == message["thread_ts"]:
                    parent["reply_count"] = int(parent.get("reply_count") or 0) + 1
                    parent["latest_reply"] = message["ts"]
                    parent.setdefault("thread_ts", parent["ts"])
        return message

    def workflow_message(
        self, channel: str, text: str, bot_id: str = "B0FORM", app_id: str = "A0FORM", **extra: Any
    ) -> dict[str, Any]:
        """A message a Workflow Builder form ("Report a bug") posts, as Slack delivers it: subtype
        `bot_message`, the workflow's `bot_id`, a `bot_profile` with its `app_id`, no `user`; the person
        who filled the form appears only in the text (`<@U…>`)."""
        profile = {"id": bot_id, "app_id": app_id, "name": "Report a bug", "deleted": False,
                   "team_id": "T0FAKE", "icons": {}}  # fmt: skip
        return self.message(
            channel, text, None, subtype="bot_message", bot_id=bot_id, bot_profile=profile,
            username="Report a bug", **extra,
        )  # fmt: skip

    def _find(self, channel: str, ts: str) -> dict[str, Any]:
        """A message of the channel by ts: top-level, or a reply in any thread."""
        messages = self.history.get(channel, []) + [
            m for (c, _), thread in self.replies.items() if c == channel for m in thread
        ]
        return next(m for m in messages if m["ts"] == ts)

    def edit(self, channel: str, ts: str, text: str) -> dict[str, Any]:
        """A person edits a message (top-level or a thread reply): its text and `edited` change, its `ts`
        stays; returns the `message_changed` event (not pushed: push it with push_event, or let the sweep
        find it)."""
        message = self._find(channel, ts)
        previous = dict(message)
        message["text"] = text
        message["edited"] = {"user": message.get("user"), "ts": self.next_ts()}
        return {"type": "message", "subtype": "message_changed", "channel": channel, "hidden": True,
                "message": dict(message), "previous_message": previous, "ts": self.next_ts()}  # fmt: skip

    def unfurl(self, channel: str, ts: str) -> dict[str, Any]:
        """Slack unfurls a link of a message: `attachments` appear, text and `edited` do not change; returns
        the `message_changed` event Slack sends for it (with no `edited` field: nobody edited anything)."""
        message = self._find(channel, ts)
        previous = dict(message)
        message["attachments"] = [{"id": 1, "title": "Example page", "from_url": "https://example.com/"}]
        return {"type": "message", "subtype": "message_changed", "channel": channel, "hidden": True,
                "message": dict(message), "previous_message": previous, "ts": self.next_ts()}  # fmt: skip

    def delete(self, channel: str, ts: str) -> dict[str, Any]:
        """A person deletes a top-level message: gone from the history, or, when it has replies, left as
        Slack's tombstone (subtype `tombstone`, no text) that keeps the thread; returns the
        `message_deleted` event (not pushed: push it with push_event, or let the sweep find the gap)."""
        history = self.history.get(channel, [])
        message = next(m for m in history if m["ts"] == ts)
        if message.get("reply_count"):
            tombstone = {"type": "message", "subtype": "tombstone", "text": "This message was deleted.",
                         "user": "USLACKBOT", "hidden": True, "ts": ts, "thread_ts": ts}  # fmt: skip
            tombstone.update(reply_count=message["reply_count"], latest_reply=message.get("latest_reply"))
            history[history.index(message)] = tombstone
        else:
            history.remove(message)
        return {"type": "message", "subtype": "message_deleted", "channel": channel, "hidden": True,
                "deleted_ts": ts, "previous_message": dict(message), "ts": self.next_ts()}  # fmt: skip

    def join(self, channel: str, user: str) -> str:
        """A person joins the channel: a member now, and `member_joined_channel` is pushed."""
        with self._changed:
            joined = self.members.setdefault(channel, [])
            if user not in joined:
                joined.append(user)
        return self.push_event(_member_event("member_joined_channel", channel, user))

    def leave(self, channel: str, user: str) -> str:
        """A person leaves the channel: `member_left_channel` is pushed."""
        with self._changed:
            if user in self.members.get(channel, []):
                self.members[channel].remove(user)
        return self.push_event(_member_event("member_left_channel", channel, user))

    def close_view(self, view_id: str) -> None:
        """The person closes the modal: from now on views.update on it answers `not_found`, as Slack does."""
        with self._changed:
            self.closed_views.add(view_id)

    def fail(self, method: str, error: str | None) -> None:
        """From now on `method` answers `{"ok": false, "error": error}` (None: it works again)."""
        with self._changed:
            if error is None:
                self._failing.pop(method, None)
            else:
                self._failing[method] = error

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` get HTTP 429 with `Retry-After: retry_after` (Slack's answer
        when a method's tier is exceeded)."""
        with self._changed:
            self._limited[method] = (times, retry_after)

    def refuse_token(self, token: str, error: str = "invalid_auth") -> None:
        """Every call made with `token` is answered `{"ok": false, "error": error}` (HTTP 200, as Slack
        answers a revoked, wrong or deactivated token: invalid_auth, token_revoked, account_inactive)."""
        self.refused[token] = error

    def lose_answers(self, *failures: str) -> None:
        """The next posts (chat.postMessage) land in the channel, then the answer is lost: "500" answers HTTP
        500, "drop" closes the connection without answering (as when Slack took the post and the response
        never came back); "refuse" answers HTTP 500 WITHOUT the post landing (so it must be posted again)."""
        assert all(failure in ("500", "drop", "refuse") for failure in failures)
        with self._changed:
            self._lost.extend(failures)

    def _take_lost(self, method: str, refused: bool) -> str | None:
        """The failure for this post, if any: `refused` asks before the post lands, else after."""
        with self._changed:
            if method != "chat.postMessage" or not self._lost or (self._lost[0] == "refuse") != refused:
                return None
            return self._lost.pop(0)

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

    # -- interactivity (Socket Mode "interactive" envelopes) ------------------------------------------
    def new_trigger(self) -> str:
        """A trigger_id as Slack hands one out with an interaction (valid for views.open about 3 s)."""
        return self._trigger()

    def _trigger(self) -> str:
        trigger = f"{next(self._ids)}.{int(time.time())}.fake{next(self._ids)}"
        self._triggers[trigger] = time.monotonic()
        return trigger

    def _interactive(self, payload: dict[str, Any]) -> str:
        envelope_id = f"env-{next(self._ids)}"
        payload = {
            "token": "fake",
            "team": {"id": "T0FAKE", "domain": "fake-workspace"},
            "api_app_id": "A0FAKE",
            "is_enterprise_install": False,
            "enterprise": None,
            **payload,
        }
        if payload["type"] != "view_submission":
            payload["response_url"] = f"{self.api_url.removesuffix('/api/')}/respond/{envelope_id}"
        envelope = {"envelope_id": envelope_id, "payload": payload, "type": "interactive"}
        self._send({**envelope, "accepts_response_payload": payload["type"] == "view_submission"})
        return envelope_id

    @staticmethod
    def _user(user: str) -> dict[str, Any]:
        return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0FAKE"}

    def push_block_action(self, channel: str, message: dict[str, Any], action_id: str, user: str) -> str:
        """A person presses the button `action_id` in `message` (as the bot posted it)."""
        for block in message.get("blocks") or []:
            elements = [block.get("accessory")] if block.get("accessory") else block.get("elements") or []
            for element in elements:
                if element and element.get("action_id") == action_id:
                    action = {**element, "block_id": block.get("block_id"), "action_ts": self.next_ts()}
                    break
            else:
                continue
            break
        else:
            raise AssertionError(f"no element {action_id!r} in the message")
        return self._interactive(
            {
                "type": "block_actions",
                "user": self._user(user),
                "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel,
                              "is_ephemeral": False, "thread_ts": message.get("thread_ts")},
                "trigger_id": self._trigger(),
                "channel": {"id": channel, "name": "bugs"},
                "message": {**message, "type": "message"},
                "state": {"values": {}},
                "actions": [action],
            }
        )  # fmt: skip

    def push_message_action(self, channel: str, message: dict[str, Any], callback_id: str, user: str) -> str:
        """A person picks the message shortcut `callback_id` on `message`."""
        return self._interactive(
            {
                "type": "message_action",
                "callback_id": callback_id,
                "trigger_id": self._trigger(),
                "action_ts": self.next_ts(),
                "user": self._user(user),
                "channel": {"id": channel, "name": "bugs"},
                "message_ts": message["ts"],
                "message": {"type": "message", **message},
            }
        )

    def push_view_submission(self, opened: dict[str, Any], values: dict[str, Any], user: str) -> str:
        """A person submits the modal `opened` (an entry of `views`) with `values` as Slack's state.values."""
        view = {**opened["view"], "id": opened["view_id"], "team_id": "T0FAKE", "state": {"values": values},
                "hash": f"hash-{next(self._ids)}"}  # fmt: skip
        return self._interactive(
            {"type": "view_submission", "user": self._user(user), "trigger_id": self._trigger(),
             "view": view, "response_urls": []}
        )  # fmt: skip

    def push_app_home_opened(self, user: str) -> str:
        """The person opens the app's Home tab (Slack sends the view last published for them, if any)."""
        event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
        if user in self.published:
            event["view"] = self.published[user]
        return self.push_event(event)

    def push_view_action(
        self, user: str, action_id: str, view: dict[str, Any] | None = None, selected: str | None = None
    ) -> str:
        """The person presses the button `action_id` in their Home view (as last published, or `view`: one
        they still have on screen from before, a modal included); `selected`: picks that option of the
        select `action_id` instead."""
        view = view or self.published[user]
        for block in view.get("blocks") or []:
            elements = [block.get("accessory")] if block.get("accessory") else block.get("elements") or []
            action = next((e for e in elements if e and e.get("action_id") == action_id), None)
            if action is not None:
                action = {**action, "block_id": block.get("block_id"), "action_ts": self.next_ts()}
                if selected is not None:
                    option = next(o for o in action.get("options") or [] if o["value"] == selected)
                    action = {**action, "selected_option": option}
                break
        else:
            raise AssertionError(f"no element {action_id!r} in the Home view")
        return self._interactive(
            {
                "type": "block_actions",
                "user": self._user(user),
                "container": {"type": "view", "view_id": view["id"]},
                "trigger_id": self._trigger(),
                "view": view,
                "state": {"values": {}},
                "actions": [action],
            }
        )

    def thread_of(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The bot's messages in a thread, as they are now (after chat.update)."""
        return [
            m
            for (c, _), m in sorted(self.bot_messages.items())
            if c == channel and m.get("thread_ts") == thread_ts
        ]

    def response_to(self, envelope_id: str) -> dict[str, Any] | None:
        return next((r for r in self.responses if r["_path"].endswith(f"/{envelope_id}")), None)

    def disconnect_all(self) -> None:
        for connection in list(self.connections):
            connection.close()

    def _send(self, envelope: dict[str, Any]) -> None:
        self.wait_for(lambda: self.connections, timeout=10)
        with self._changed:
            connections = list(self.connections)
            index = next(self._spread) % len(connections) if self.spread else -1
            self.sent_at.setdefault(envelope["envelope_id"], time.monotonic())
        connections[index].send(json.dumps(envelope))

    def ack_seconds(self, envelope_id: str) -> float | None:
        """How long the app took to ack the envelope (Slack's deadline: 3 s), None while it has not."""
        with self._changed:
            acked = self.acked_at.get(envelope_id)
            return None if acked is None else acked - self.sent_at[envelope_id]

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
                    self.acked_at.setdefault(ack["envelope_id"], time.monotonic())
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                if connection in self.connections:
                    self.connections.remove(connection)
                self._changed.notify_all()

    # -- the Web API side ------------------------------------------------------------------------
    def _take_rate_limit(self, method: str) -> int | None:
        with self._changed:
            times, retry_after = self._limited.get(method, (0, 0))
            if times <= 0:
                return None
            self._limited[method] = (times - 1, retry_after)
            self.rate_limited.append(method)
            return retry_after

    def _api(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(method)
        if method in self._failing:
            return {"ok": False, "error": self._failing[method]}
        if method in ("conversations.members", "conversations.info", "users.info", "users.list"):
            return self._directory(method, args)
        if method == "auth.test":
            return {"ok": True, "url": WORKSPACE_URL, "team": "Fake", "user": "bugbot", "team_id": "T0FAKE",
                    "user_id": BOT_USER_ID, "bot_id": "B0BOT"}  # fmt: skip
        if method == "apps.connections.open":
            return {"ok": True, "url": self.ws_url}
        if method in ("chat.postMessage", "chat.update", "views.open") and (problem := _block_problem(args)):
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        if method == "chat.postMessage":
            ts = self.next_ts()
            with self._changed:
                self.posts.append(args)
                self.bot_messages[(args.get("channel"), ts)] = {
                    "type": "message", "user": BOT_USER_ID, "bot_id": "B0BOT", "ts": ts,
                    "thread_ts": args.get("thread_ts"), "text": args.get("text"),
                    "blocks": _decoded(args, "blocks"), "app_id": "A0FAKE",
                    "bot_profile": {"id": "B0BOT", "app_id": "A0FAKE", "name": "bugtracker"},
                }  # fmt: skip
                if args.get("metadata"):
                    self.bot_messages[(args.get("channel"), ts)]["metadata"] = _decoded(args, "metadata")
                self._changed.notify_all()
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text")},
            }
        if method == "chat.update":
            key = (args.get("channel"), args.get("ts"))
            with self._changed:
                if key not in self.bot_messages:
                    return {"ok": False, "error": "message_not_found"}
                self.updates.append(args)
                self.bot_messages[key].update(text=args.get("text"), blocks=_decoded(args, "blocks"))
                self._changed.notify_all()
            return {"ok": True, "channel": key[0], "ts": key[1], "text": args.get("text")}
        if method == "chat.postEphemeral":
            with self._changed:
                self.ephemerals.append(args)
                self._changed.notify_all()
            return {"ok": True, "message_ts": self.next_ts()}
        if method == "views.open":
            issued = self._triggers.pop(args.get("trigger_id"), None)
            if issued is None:
                return {"ok": False, "error": "invalid_trigger_id"}
            if time.monotonic() - issued > 3:
                return {"ok": False, "error": "expired_trigger_id"}
            view = _decoded(args, "view") or {}
            if len(view.get("blocks") or []) > 100 or len((view.get("title") or {}).get("text", "")) > 24:
                return {"ok": False, "error": "invalid_arguments"}
            view_id = f"V{next(self._ids):08d}"
            with self._changed:
                self.views.append({**args, "view": view, "view_id": view_id})
                if self.close_at_once:
                    self.closed_views.add(view_id)
                self._changed.notify_all()
            return {"ok": True, "view": {**view, "id": view_id}}
        if method in ("views.publish", "views.update"):
            return self._publish(method, args)
        if method == "conversations.replies":
            channel, ts = args.get("channel"), args.get("ts")
            parent = [m for m in self.history.get(channel, []) if m["ts"] == ts]
            if not parent:
                return {"ok": False, "error": "thread_not_found"}
            oldest = float(args.get("oldest") or 0)
            thread = sorted(self.replies.get((channel, ts), []) + self.thread_of(channel, ts),
                            key=lambda m: float(m["ts"]))  # fmt: skip
            thread = [m for m in thread if float(m["ts"]) > oldest]
            if str(args.get("include_all_metadata")).lower() not in ("1", "true"):  # Slack's default
                thread = [{k: v for k, v in m.items() if k != "metadata"} for m in thread]
            start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 1000)
            page = thread[start : start + max(limit - 1, 1)]  # the parent comes first on every page
            more = start + len(page) < len(thread)
            return {"ok": True, "messages": parent + page, "has_more": more,
                    "response_metadata": {"next_cursor": str(start + len(page)) if more else ""}}  # fmt: skip
        if method == "conversations.history":
            oldest = float(args.get("oldest") or 0)
            channel = args.get("channel")
            with self._changed:  # the bot's own top-level posts are in the history too, as in Slack
                mine = self.bot_messages.items()
                posted = [m for (c, _), m in mine if c == channel and not m.get("thread_ts")]
            found = [m for m in self.history.get(channel, []) + posted if float(m["ts"]) > oldest]
            if str(args.get("include_all_metadata")).lower() not in ("1", "true"):  # Slack's default
                found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
            found.sort(key=lambda m: float(m["ts"]), reverse=True)  # Slack: newest first
            start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
            page = found[start : start + limit]
            more = start + limit < len(found)
            return {"ok": True, "messages": page, "has_more": more,
                    "response_metadata": {"next_cursor": str(start + limit) if more else ""}}  # fmt: skip
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.groups.get(args.get("usergroup"), [])}
        return {"ok": False, "error": "unknown_method"}

    def _directory(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Who is in a channel (paged like Slack: `limit`, an opaque `next_cursor`), a channel's name, and a
        user's guest flags."""
        if method == "users.info":
            user = args.get("user") or ""
            if not user.startswith(("U", "W")):
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": self._profile(user)}
        if method == "users.list":
            return self._users_page(args)
        channel = args.get("channel") or ""
        with self._changed:
            known = channel in self.members or channel in self.history
            members = list(self.members.get(channel, []))
        if not known:
            return {"ok": False, "error": "channel_not_found"}
        if method == "conversations.info":
            name = self.channel_names.get(channel, channel.lower())
            private = channel.startswith("G")
            shared = channel in self.shared
            return {"ok": True, "channel": {"id": channel, "name": name, "is_private": private,
                                            "is_ext_shared": shared, "is_shared": shared}}  # fmt: skip
        limit = int(args.get("limit") or 100)
        cursor = args.get("cursor") or ""
        try:
            start = int(base64.b64decode(cursor).decode().removeprefix("user:")) if cursor else 0
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        page = members[start : start + limit]
        after = start + len(page)
        next_cursor = base64.b64encode(f"user:{after}".encode()).decode() if after < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _profile(self, user: str) -> dict[str, Any]:
        """A user object as users.info / users.list give it: the workspace's team, another organisation's
        (`teams`), or a Slack Connect stranger's (is_stranger, its team unknown here); guests flagged."""
        kind = self.guests.get(user)
        team = self.teams.get(user, "T0FAKE")
        profile: dict[str, Any] = {"id": user, "name": user.lower(), "team_id": team,
                                   "is_bot": user == BOT_USER_ID, "deleted": False}  # fmt: skip
        profile.update(is_restricted=kind is not None, is_ultra_restricted=kind == "single")
        if user in self.strangers:
            profile.update(team_id="T0OTHER", is_stranger=True)
        return profile

    def _users_page(self, args: dict[str, Any]) -> dict[str, Any]:
        """users.list: every user this fake knows (channel members, guests, other teams' people; never a
        Slack Connect stranger), paged like Slack (`limit`, an opaque `next_cursor`)."""
        with self._changed:
            known = {BOT_USER_ID, *self.guests, *self.teams}
            for users in self.members.values():
                known.update(users)
        users = sorted(user for user in known - self.strangers if user)  # a bot's post has no member
        limit = int(args.get("limit") or 0) or len(users)  # Slack: no limit, every user (if it can)
        cursor = args.get("cursor") or ""
        try:
            start = int(base64.b64decode(cursor).decode().removeprefix("users:")) if cursor else 0
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        page = users[start : start + limit]
        after = start + len(page)
        next_cursor = base64.b64encode(f"users:{after}".encode()).decode() if after < len(users) else ""
        return {"ok": True, "members": [self._profile(user) for user in page], "cache_ts": int(time.time()),
                "response_metadata": {"next_cursor": next_cursor}}  # fmt: skip

    def _publish(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """views.publish (a user's Home tab) and views.update (a view this fake knows, by view_id)."""
        view = _decoded(args, "view")
        if problem := _view_problem(view):
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [problem]}}
        with self._changed:
            if method == "views.publish":
                user = args.get("user_id") or ""
                if not user.startswith(("U", "W")):
                    return {"ok": False, "error": "invalid_arguments"}
                view_id = (self.published.get(user) or {}).get("id") or f"V{next(self._ids):08d}"
                stored = {**view, "id": view_id, "team_id": "T0FAKE", "state": {"values": {}}}
                self.published[user] = stored
                self.publishes.append({**args, "view": stored})
            else:
                known = [v for v in self.published.values() if v["id"] == args.get("view_id")]
                known += [
                    {**v["view"], "id": v["view_id"]}
                    for v in self.views
                    if v["view_id"] == args.get("view_id")
                ]
                if not known or args.get("view_id") in self.closed_views:
                    return {"ok": False, "error": "not_found"}
                stored = {**view, "id": args["view_id"], "team_id": "T0FAKE", "state": {"values": {}}}
                self.view_updates.append({**args, "view": stored})
            self._changed.notify_all()
        return {"ok": True, "view": stored}

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
                    method = url.path.removeprefix("/api/")
                    token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
                    if token in fake.refused:
                        fake.calls.append(method)
                        self._answer(200, {"ok": False, "error": fake.refused[token]})
                        return
                    retry_after = fake._take_rate_limit(method)
                    if retry_after is not None:
                        data = json.dumps({"ok": False, "error": "ratelimited"}).encode()
                        self.send_response(429)
                        self.send_header("Retry-After", str(retry_after))
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                        return
                    if fake._take_lost(method, refused=True):
                        fake.calls.append(method)
                        self._answer(500, {"ok": False, "error": "internal_error"})
                        return
                    fake._wait_if_stalled(method)
                    body = fake._api(method, args)
                    lost = fake._take_lost(method, refused=False) if body.get("ok") else None
                    if lost == "drop":  # the post landed; the connection closes with no answer
                        self.close_connection = True
                        return
                    if lost == "500":
                        body = {"ok": False, "error": "internal_error"}
                        self._answer(500, body)
                        return
                self._answer(200, body)

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *_: object) -> None:  # keep test output quiet
                pass

        return Handler


def _member_event(kind: str, channel: str, user: str) -> dict[str, Any]:
    channel_type = "G" if channel.startswith("G") else "C"
    return {"type": kind, "user": user, "channel": channel, "channel_type": channel_type, "team": "T0FAKE"}


def _view_problem(view: Any) -> str | None:
    if not isinstance(view, dict) or view.get("type") not in ("home", "modal"):
        return "view must be an object of type home or modal"
    return _block_problem({"view": view})


def _decoded(args: dict[str, Any], name: str) -> Any:
    value = args.get(name)
    return json.loads(value) if isinstance(value, str) else value


def _block_problem(args: dict[str, Any]) -> str | None:
    """The first way the blocks break Slack's documented limits, or None."""
    blocks = _decoded(args, "blocks") or (_decoded(args, "view") or {}).get("blocks") or []
    if len(blocks) > (100 if "view" in args else 50):
        return "too many blocks"
    action_ids: set[str] = set()
    for block in blocks:
        text = (block.get("text") or {}).get("text") or ""
        if block.get("type") == "section" and len(text) > 3000:
            return "section text over 3000"
        elements = (
            list(block.get("elements") or []) + [block.get("accessory") or {}] + [block.get("element") or {}]
        )
        for element in elements:
            button = element if element.get("type") == "button" else None
            if button and (len(button["text"]["text"]) > 75 or len(button.get("value") or "") > 2000):
                return "button text over 75 or value over 2000"
            action_id = element.get("action_id")
            if action_id:
                if action_id in action_ids or len(action_id) > 255:
                    return f"action_id {action_id} repeated or too long"
                action_ids.add(action_id)
            if element.get("type") == "static_select" and len(element.get("options") or []) > 100:
                return "a static_select holds at most 100 options"
            if element.get("type") == "external_select" and "options" in element:
                return "an external_select takes no options (they come from the options request)"
            for option in element.get("options") or []:
                if len(option["text"]["text"]) > 75:
                    return "option text over 75"
    return None
