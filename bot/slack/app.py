"""Build the Bolt App (with an injected WebClient and its listener pools) and register the listeners.

One `@app.error` handler for the whole app: it logs the traceback and tells the user one line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.metrics.registry import ERRORS
from bot.slack.dependencies import SlackDeps
from bot.slack.listeners import commands as command_listeners
from bot.slack.listeners import create as create_listeners
from bot.slack.listeners import home as home_listeners
from bot.slack.listeners import link_modal as link_modal_listeners
from bot.slack.listeners import members as member_listeners
from bot.slack.listeners import messages as message_listeners
from bot.slack.listeners import suggestions as suggestion_listeners

log = logging.getLogger(__name__)

ERROR_LINE = (
    "Sorry, something went wrong on my side; it is logged. Your message is not lost if it was stored."
)


# Bolt runs each listener on its `listener_executor` (its default: one pool of 5 threads for everything).
# Two pools instead, chosen per request by the middleware below: events (a report stored, a member joined)
# and interactive payloads (/bug, buttons, shortcuts, modal submissions, option searches), so that a burst
# of one never leaves the other without a thread. Listeners only store and call Slack a few times (answers
# and paced posts run on the answer queue's workers: bot/slack/answer_queue.py), so a thread is busy for
# milliseconds to a few hundred; 8 for events keeps a burst stored at the store's speed (SQLite writes one
# at a time anyway, DynamoDB takes them side by side), 16 for interactive payloads keeps 16 slow commands
# (a Slack lookup, an upstream read) from delaying an ack past Slack's 3 seconds.
EVENT_THREADS = 8
INTERACTIVE_THREADS = 16


class ListenerPools(Executor):
    """The App's listener_executor: events on one pool, everything a person is waiting on on the other."""

    def __init__(self, events: int = EVENT_THREADS, interactive: int = INTERACTIVE_THREADS) -> None:
        self.events = ThreadPoolExecutor(events, thread_name_prefix="slack-events")
        self.interactive = ThreadPoolExecutor(interactive, thread_name_prefix="slack-interactive")
        self._kind = threading.local()  # set by the middleware on the thread that submits the listener

    def mark(self, body: dict[str, Any]) -> None:
        self._kind.events = body.get("type") == "event_callback" or "event" in body

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        pool = self.events if getattr(self._kind, "events", False) else self.interactive
        return pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.events.shutdown(wait, cancel_futures=cancel_futures)
        self.interactive.shutdown(wait, cancel_futures=cancel_futures)


def build_app(client: WebClient, pools: ListenerPools) -> App:
    """The Bolt app on the process's client (every listener gets it) and the two listener pools."""
    app = App(client=client, logger=_bolt_logger(), token_verification_enabled=False, listener_executor=pools)
    share_client(app, client)

    @app.middleware
    def choose_pool(body: dict[str, Any], next: Any) -> None:  # noqa: A002 - Bolt's argument name
        pools.mark(body)
        next()

    return app


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


def register_listeners(app: App, deps: SlackDeps) -> None:
    """Every feature's listeners, each given the one dependencies object; one error handler for all."""
    message_listeners.register(app, deps)
    member_listeners.register(app, deps)
    open_create = create_listeners.register(app, deps)
    command_listeners.register(app, deps, open_create)
    suggestion_listeners.register(app, deps)
    link_modal_listeners.register(app, deps)
    home_listeners.register(app, deps)

    @app.error
    def handle_error(error: Exception, body: dict[str, Any], respond: Any, logger: logging.Logger) -> None:
        ERRORS.inc()
        logger.error("unexpected error handling a Slack request", exc_info=error)
        if respond is not None and body.get("response_url"):
            respond(text=ERROR_LINE, response_type="ephemeral")
