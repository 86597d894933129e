"""The `bugtracker` command: the PM's view of the store, plus the bot, sync and metrics processes.

Exit codes (bot/cli/exit_codes.py): 0 done; 1 the request was refused or found nothing (bad id, link
refused, not found, a sync source stopped on an error); 2 the command line itself is wrong (usage);
3 configuration or store unavailable. Every expected error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot import services
from bot.cli import bot as bot_command
from bot.cli import metrics as metrics_command
from bot.cli import store as store_commands
from bot.cli import sync as sync_command
from bot.cli.exit_codes import EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_USAGE
from bot.config import ConfigError, load_config
from storage.errors import BugTrackerError, StoreUnavailable


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bugtracker", description="Unified BugTracker: one store for every bug."
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Each area adds its own subcommands, one register(sub) call each.
    store_commands.register(sub)
    metrics_command.register(sub)
    bot_command.register(sub)
    sync_command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        config = load_config()
        logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        return args.handler(args, config)
    except (ConfigError, StoreUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except services.UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BugTrackerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
