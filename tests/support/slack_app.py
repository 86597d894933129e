"""A Bolt app built for a test as bootstrap builds it (bot/bootstrap.py build_slack_parts), with its answer
queue running, on a real WebClient pointed at the fake Slack."""

from __future__ import annotations

import time
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.bootstrap import SlackParts, build_slack_parts
from bot.config import SlackConfig
from bot.slack.directory import Directory
from bot.slack.intake import Intake
from bot.slack.status_board import StatusBoard
from bot.slack.suggestion_blocks import SHORTCUT_CALLBACK
from bot.suggest.service import Suggester
from bot.tickets.upstreams import Upstreams
from storage.store import BugStore

_PARTS: dict[int, SlackParts] = {}


def build_app(
    config: SlackConfig,
    store: BugStore,
    client: WebClient,
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
    upstreams: Upstreams | None = None,
    identity: dict[str, Any] | None = None,
    directory: Directory | None = None,
    status_updates: bool = False,
) -> tuple[App, Intake]:
    """The app and its intake; answers are posted by the running answer queue (see `settle`)."""
    identity = identity if identity is not None else client.auth_test().data
    parts = build_slack_parts(
        config, store, client, identity, suggester=suggester, upstreams=upstreams, board=board,
        directory=directory, status_updates=status_updates,
    )  # fmt: skip
    if directory is None:
        parts.directory_reader.start()
    parts.answers.start()
    _PARTS[id(parts.app)] = parts
    return parts.app, parts.intake


def stop_all(timeout: float = 5.0) -> None:
    """Stop what build_app started (the answer queue, the directory reader) and forget the apps: the root
    conftest calls it as every test ends, so no worker of a finished test goes on calling the next test's
    fake Slack, or logging into a closed capture."""
    while _PARTS:
        _, parts = _PARTS.popitem()
        parts.answers.stop(timeout)
        parts.directory_reader.stop(timeout)


def parts_of(app: App) -> SlackParts:
    return _PARTS[id(app)]


def settle(app: App, timeout: float = 30.0) -> None:
    """Wait until every listener run dispatched so far has finished (Bolt runs them on its executor;
    shutdown(wait=True) returns once the queued ones are done: the app takes no more events), then until
    the answers they queued are posted."""
    app.listener_runner.listener_executor.shutdown(wait=True)
    assert parts_of(app).answers.wait_idle(timeout), "answers still waiting"


def shortcut_request(fake: Any, message: dict[str, Any], channel: str, user: str = "U0ALICE") -> BoltRequest:
    """The "Link to ticket…" message shortcut on `message`, as Socket Mode hands it to Bolt."""
    body = {"type": "message_action", "callback_id": SHORTCUT_CALLBACK, "trigger_id": fake.new_trigger(),
            "team": {"id": "T0FAKE"}, "user": {"id": user}, "channel": {"id": channel},
            "message_ts": message["ts"], "message": message, "api_app_id": "A0FAKE",
            "response_url": f"{fake.api_url.removesuffix('/api/')}/respond/{time.time_ns()}"}  # fmt: skip
    return BoltRequest(body=body, mode="socket_mode")
