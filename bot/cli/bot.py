"""`bugtracker bot`: the same process as `python -m bot`."""

from __future__ import annotations

import argparse

from bot import run


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bot", help="run the Slack bot (Socket Mode), or the console without tokens"
    )
    parser.set_defaults(handler=lambda _args, config: run.serve(config), long_running=True)
