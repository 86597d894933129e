"""Compose the running process: config -> store -> background services -> Slack Socket Mode or the console.

`python -m bot` and `bugtracker bot` both end up in `serve()`. With SLACK_BOT_TOKEN, SLACK_APP_TOKEN and
SLACK_CHANNEL_ID set, the bot connects to Slack over Socket Mode; with none of them, it starts the console
on the same store and the same service functions. Everything is built by `bot.bootstrap`.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from typing import TYPE_CHECKING, Any, TextIO

from bot import bootstrap, migrations
from bot.config import Config, ConfigError, load_config, load_env_file
from bot.digest import DoneLog
from bot.flow import FlowLog
from bot.logging_setup import configure_for
from bot.shutdown import Shutdown
from bot.tickets.notes import fan_out
from storage.errors import BugTrackerError
from storage.store import BugStore

if TYPE_CHECKING:
    from bot.slack.status_board import StatusBoard
    from bot.suggest.service import Suggester
    from bot.tickets.upstreams import Upstreams

log = logging.getLogger("bot")

SWITCH_TO_SLACK = (
    "to connect to Slack instead, set SLACK_BOT_TOKEN (xoxb-...), SLACK_APP_TOKEN (xapp-...) and "
    "SLACK_CHANNEL_ID (see README, 'Create the Slack app')"
)

NO_SLACK_NO_TERMINAL = (
    "no Slack tokens and no terminal for the console: set SLACK_BOT_TOKEN (xoxb-...), "
    "SLACK_APP_TOKEN (xapp-...) and SLACK_CHANNEL_ID to run the Slack bot, or start it with a terminal "
    "(docker/podman run -it) for the console"
)


def has_console_input(stdin: TextIO | None) -> bool:
    """Can the console read anything? A terminal, a pipe or a file, yes; /dev/null or a closed stdin (a
    container, a service manager, a platform's worker) no: there the console would end at once, or sit on a
    stdin nobody writes to, instead of saying that the Slack tokens are missing."""
    if stdin is None:  # fd 0 closed when Python started
        return False
    if stdin.isatty():
        return True
    try:
        mode = os.fstat(stdin.fileno()).st_mode
    except (OSError, ValueError):  # no descriptor (StringIO: io.UnsupportedOperation): the caller's lines
        return True
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)


class BotStatus:
    """What the rest of the process (metrics server, health checks) may observe about the bot.

    `mode` is "slack" or "console"; `is_connected()` answers "is the Socket Mode connection up?" from the
    real socket client (always False in console mode). Event counts live in bot/metrics/registry.py.
    """

    def __init__(self) -> None:
        self.mode = "starting"
        self.handler: Any | None = None  # the SocketModeHandler once started
        self.intake: Any | None = None  # the Slack intake once built: its store writes' health

    def is_connected(self) -> bool:
        return self.handler is not None and self.handler.client.is_connected()

    def store_problem(self) -> str | None:
        """One line while the intake's store writes are failing (reports wait in the retry queue)."""
        return self.intake.health.problem() if self.intake is not None else None


def start_background_services(
    config: Config,
    store: BugStore,
    status: BotStatus,
    board: StatusBoard | None = None,
    flow: FlowLog | None = None,
) -> list[Any]:
    """Start what runs beside the bot in the same process (the sync scheduler, the metrics server); return
    them to stop on shutdown. A service that cannot start stops the ones that did, then re-raises."""
    started: list[Any] = []
    try:
        if board is not None:
            started.append(board)  # stopped last: the scheduler may still be telling it something
        notes = bootstrap.build_support_notes(config, store)
        if notes is not None:
            started.append(notes.start())
        digest = bootstrap.build_digest(config, store)
        if digest is not None:
            started.append(digest.start())
        done_log = DoneLog(store) if digest is not None else None  # what the digest says was done
        notifier = fan_out(board, notes, done_log, flow)
        started.append(bootstrap.build_scheduler(config, store, notifier))
        for build in (bootstrap.build_metrics_server, bootstrap.build_health_server):
            server = build(config, store, status)
            if server is not None:
                started.append(server)
    except BugTrackerError:  # e.g. METRICS_PORT taken: stop what did start, let serve() say one line
        _stop_all(started)
        raise
    return started


def _stop_all(started: list[Any]) -> None:
    for service in reversed(started):
        stop = getattr(service, "shutdown", None) or getattr(service, "stop", None)
        if stop is not None:
            try:
                stop()
            except Exception:  # shutting down: log and keep stopping the others
                log.exception("could not stop %r", service)


def _canonicalize_ids_once(store: Any) -> None:
    """The one-off move of records stored under non-canonical ids (ZD-0042 -> ZD-42), at the first start
    of a version that canonicalises ids; a failure is logged and tried again at the next start."""
    try:
        moved = migrations.canonicalize_ids(store, actor="bot start-up", once=True)
    except BugTrackerError as exc:
        log.warning("could not move records stored under non-canonical ids (next start retries): %s", exc)
        return
    for old, new, count in moved:
        log.info("moved %d record(s) stored under %s to %s", count, old, new)


def main() -> int:
    """`python -m bot`: `.env` of the current directory, then the configuration, logging, and serve()."""
    load_env_file()
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    configure_for(config, default_level=default_log_level(config))
    shutdown = Shutdown.for_process()
    try:
        return serve(config, shutdown=shutdown)
    except KeyboardInterrupt:  # Ctrl-C while starting or shutting down: quietly, as at the console prompt
        return 130
    finally:
        shutdown.arm()  # whatever still runs (threads the interpreter joins at exit) gets GRACE_SECONDS


def default_log_level(config: Config) -> str:
    """INFO for the Slack bot (its logs are what an operator reads); WARNING for the console, whose
    terminal is a conversation: LOG_LEVEL=INFO (or `bugtracker bot -v`) asks for more."""
    return "INFO" if config.slack is not None else "WARNING"


def serve(
    config: Config,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    shutdown: Shutdown | None = None,
) -> int:
    """`shutdown`: the process's stop rule (bot/shutdown.py); None (a test's own process): nothing forced."""
    stdin = stdin if stdin is not None else sys.stdin
    shutdown = shutdown or Shutdown()
    if config.slack is None and not has_console_input(stdin):
        print(f"error: {NO_SLACK_NO_TERMINAL}", file=sys.stderr)
        return 3
    try:
        # The bot owns its store: on a fresh checkout (`make run`) it creates the SQLite file.
        store = bootstrap.build_store(config, create=True)
        # check, not init: on AWS the table is Terraform's and the bot's role may not create tables
        # (the SQLite store creates its schema on first use either way).
        store.check()
        _canonicalize_ids_once(store)
        # every write from here on (intake, sync, links) keeps the suggestion index current
        flow = FlowLog(store)  # flow times: links told by the store wrapper, done stories by the sync
        store, suggester = bootstrap.build_suggester(store, linked=flow.linked)
        board = bootstrap.build_status_board(config, store)
        upstreams = bootstrap.build_upstreams(config)
        status = BotStatus()
        started = start_background_services(config, store, status, board, flow)
    except BugTrackerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    try:
        if config.slack is not None:
            status.mode = "slack"
            log.info(
                "mode: Slack Socket Mode, channels %s; store: %s", config.slack.channel_ids, store.description
            )
            return run_slack(config, store, status, suggester, board, upstreams, shutdown)
        status.mode = "console"
        log.info("mode: console (no Slack tokens set); store: %s; %s", store.description, SWITCH_TO_SLACK)
        from bot.slack.console import run_console

        return run_console(
            store,
            stdin,
            stdout or sys.stdout,
            store_description=store.description,
            suggester=suggester,
            board=board,
            upstreams=upstreams,
        )
    finally:
        shutdown.arm()  # the services get GRACE_SECONDS to stop, then the process ends anyway
        _stop_all(started)


def run_slack(
    config: Config,
    store: BugStore,
    status: BotStatus,
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
    upstreams: Upstreams | None = None,
    shutdown: Shutdown | None = None,
) -> int:
    """Connect over Socket Mode and serve until SIGTERM / SIGINT: the first stops gracefully within
    GRACE_SECONDS, a second at once (bot/shutdown.py). Exit 0 for SIGTERM, 130 for Ctrl-C."""
    from bot.slack.socket_mode import start_socket_mode
    from bot.slack.startup import SlackRefused, StartStopped

    assert config.slack is not None
    shutdown = shutdown or Shutdown()
    shutdown.install()
    stop = shutdown.requested
    try:
        app, intake = bootstrap.build_slack_app(config.slack, store, suggester, board, upstreams, stop)
        status.intake = intake
        handler = start_socket_mode(app, config.slack, intake, suggester, board, stop)
    except StartStopped:
        return shutdown.code  # asked to stop while Slack was unreachable
    except SlackRefused as exc:  # a token Slack refuses: one line, as for a bad configuration
        print(f"error: {exc}", file=sys.stderr)
        return 3
    status.handler = handler
    try:
        stop.wait()
    finally:
        log.info("shutting down the Socket Mode connection")
        handler.close()  # bounded: bot/slack/socket_client.py
    return shutdown.code
