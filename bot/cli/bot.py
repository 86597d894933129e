"""`bugtracker bot`: the same process as `python -m bot`."""

from __future__ import annotations

import argparse

from bot import run
from bot.cli.help import examples


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bot",
        help="run the Slack bot (Socket Mode), or the console without tokens",
        epilog=examples(
            "bugtracker bot                    # console on ./bugtracker.db (created if missing)",
            "SLACK_BOT_TOKEN=xoxb-... SLACK_APP_TOKEN=xapp-... SLACK_CHANNEL_ID=C0123 bugtracker bot",
        ),
    )
    parser.set_defaults(handler=lambda _args, config: run.serve(config), long_running=True, uses_slack=True)
