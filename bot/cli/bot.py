"""`bugtracker bot`: the same process as `python -m bot`."""

from __future__ import annotations

import argparse

from bot import run
from bot.cli.help import examples
from bot.config import Config
from bot.shutdown import Shutdown


def _serve(_args: argparse.Namespace, config: Config) -> int:
    shutdown = Shutdown.for_process()
    try:
        return run.serve(config, shutdown=shutdown)
    finally:
        shutdown.arm()  # whatever still runs (threads the interpreter joins at exit) gets GRACE_SECONDS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bot",
        help="run the Slack bot (Socket Mode), or the console without tokens",
        epilog=examples(
            "bugtracker bot                    # console on ./bugtracker.db (created if missing)",
            "SLACK_BOT_TOKEN=xoxb-... SLACK_APP_TOKEN=xapp-... SLACK_CHANNEL_ID=C0123 bugtracker bot",
        ),
    )
    parser.set_defaults(handler=_serve, long_running=True, uses_slack=True)
