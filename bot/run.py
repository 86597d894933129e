"""Run the process: `python -m bot` and `bugtracker bot` both end up in `serve()`.

With SLACK_BOT_TOKEN, SLACK_APP_TOKEN and SLACK_CHANNEL_ID set, the bot connects to Slack over Socket Mode;
with none of them, it starts the console on the same store and the same service functions. Everything is
built and connected by `bot.bootstrap.build_bot` (the one composition root); this module only reads the
configuration, takes the signals (bot/shutdown.py), starts what bootstrap built, waits, and stops it.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from typing import TextIO

from bot import bootstrap
from bot.bootstrap import canonicalize_ids_once as _canonicalize_ids_once  # noqa: F401 - tests call it here
from bot.config import Config, ConfigError, load_config, load_env_file
from bot.logging_setup import configure_for
from bot.shutdown import Shutdown, wait_for
from storage.errors import BugTrackerError

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


def main() -> int:
    """`python -m bot`: `.env` of the current directory, then the configuration, logging, and serve()."""
    load_env_file()
    try:
        config = load_config()
        configure_for(config, default_level=default_log_level(config))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
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
    """`shutdown`: the process's stop rule (bot/shutdown.py); None (a test's own process): nothing forced.
    Slack mode serves until SIGTERM / SIGINT: the first stops gracefully within GRACE_SECONDS, a second at
    once. Exit 0 for SIGTERM, 130 for Ctrl-C; the console ends on Ctrl-D, /quit or Ctrl-C."""
    from bot.slack.startup import StartStopped

    stdin = stdin if stdin is not None else sys.stdin
    shutdown = shutdown or Shutdown()
    if config.slack is None and not has_console_input(stdin):
        print(f"error: {NO_SLACK_NO_TERMINAL}", file=sys.stderr)
        return 3
    if config.slack is not None:
        shutdown.install()
    stop = shutdown.requested
    try:
        bot = bootstrap.build_bot(config, stop, stdin, stdout or sys.stdout)
    except StartStopped:
        return shutdown.code  # asked to stop while Slack was unreachable
    except BugTrackerError as exc:  # the store, a port, a token Slack refuses: one line
        print(f"error: {exc}", file=sys.stderr)
        return 3
    try:
        try:
            bot.start()
        except StartStopped:
            return shutdown.code
        except BugTrackerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 3
        if bot.console is not None:
            description = bot.store.description
            log.info("mode: console (no Slack tokens set); store: %s; %s", description, SWITCH_TO_SLACK)
            from bot.slack.console import run_console

            return run_console(bot.console, stdin, stdout or sys.stdout, description, bot.board)
        wait_for(stop)  # wakes to run a signal handler whichever thread the signal reached
        return shutdown.code
    finally:
        shutdown.arm()  # the services get GRACE_SECONDS to stop, then the process ends anyway
        bot.stop()
