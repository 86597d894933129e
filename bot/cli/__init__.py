"""The `bugtracker` command: the PM's view of the store, plus the bot, sync and metrics processes.

Exit codes (bot/cli/exit_codes.py): 0 done; 1 the request was refused or found nothing (link refused, not
found, a sync source stopped on an error); 2 the command line itself is wrong (usage: an unknown command or
filter, a malformed id, priority or date); 3 configuration (a setting missing, creating switched off) or store
unavailable; 130 interrupted (Ctrl-C). Every expected error is one line on stderr,
never a traceback. The verbs and the list filters are those of `/bug` (bot/grammar.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from importlib import metadata

from bot import grammar, services
from bot.cli import bot as bot_command
from bot.cli import completion as completion_command
from bot.cli import create as create_command
from bot.cli import help as help_command
from bot.cli import metrics as metrics_command
from bot.cli import recheck as recheck_command
from bot.cli import store as store_commands
from bot.cli import sync as sync_command
from bot.cli.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_USAGE
from bot.config import ConfigError, load_config, load_env_file
from bot.logging_setup import configure_for
from bot.tickets.upstreams import CreateNotConfigured
from storage.errors import (
    BugTrackerError,
    InvalidPriority,
    InvalidTicketId,
    StoreMissing,
    StoreUnavailable,
)

SHORT_USAGE = """\
usage: bugtracker [--json] [-v] [--db PATH] COMMAND ...
commands: {commands}
`bugtracker help` (or --help) says more; `bugtracker help COMMAND` one command's options."""


def _add_global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--json", action="store_true", default=default, help="machine-readable output")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="log at INFO (libraries included) on stderr; LOG_LEVEL=DEBUG for more",
    )
    parser.add_argument(
        "--utc", action="store_true", default=default, help="times in UTC (default: local time, labelled)"
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=default,
        help="the SQLite store file to use (instead of BUGTRACKER_DB, or of DYNAMODB_TABLE when set)",
    )


def version() -> str:
    try:
        return metadata.version("unified-bugtracker")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


EXAMPLES = """\
examples:
  bugtracker init                          create the local SQLite store (./bugtracker.db)
  bugtracker show ZD-12345                 every record under a ticket, across sources
  bugtracker list --state solved --source zendesk
  bugtracker --db ~/bugs.db stats          use another SQLite file
  bugtracker show ZD-12345 --json | jq .   JSON for scripts (--json before or after the command)

`bugtracker COMMAND --help` shows each command's options and examples."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bugtracker",
        description="Unified BugTracker: one store for every bug.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bugtracker {version()}")
    _add_global_options(parser, default=False)
    parser.set_defaults(db=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Each area adds its own subcommands, one register(sub) call each.
    store_commands.register(sub)
    create_command.register(sub)
    metrics_command.register(sub)
    bot_command.register(sub)
    sync_command.register(sub)
    recheck_command.register(sub)
    help_command.register(sub, parser)
    completion_command.register(sub, parser)
    # --json and --verbose also after the subcommand (`bugtracker show ZD-1 --json`, as gh and aws take them).
    # SUPPRESS: a subcommand leaves the option alone when it is not given there, so that one given before the
    # subcommand is not reset by the subcommand's default.
    for command in sub.choices.values():
        _add_global_options(command, default=argparse.SUPPRESS)
        command.formatter_class = argparse.RawDescriptionHelpFormatter  # keeps the epilogs' example lines
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The `bugtracker` command (and `python -m bot.cli`): `.env` of the current directory, then execute()."""
    load_env_file()
    try:
        code = execute(argv)
        sys.stdout.flush()  # inside the try: a closed pipe found at exit would print a traceback
    except BrokenPipeError:
        # The reader went away (`bugtracker list --json | head -3`): it has what it wanted, so stop quietly
        # and successfully, as `git log | head` does. stdout is pointed at /dev/null so that the
        # interpreter's own flush at exit finds nothing to write.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:  # Ctrl-C: one line, never a traceback (`sync` says how to resume itself)
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


def execute(argv: Sequence[str] | None = None) -> int:
    """Run one command line on the configuration in os.environ (no `.env`); return the exit code.

    Logging: LOG_LEVEL if set; else INFO with --verbose or for the long-running commands (bot, metrics),
    WARNING for the rest, so that a one-shot command prints its answer or one error line, not library chatter.
    """
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    verb = _first_word(words)
    if verb is None and not {"-h", "--help", "--version"} & set(words):
        print(SHORT_USAGE.format(commands=", ".join(commands)), file=sys.stderr)
        return EXIT_USAGE
    if verb is not None and verb not in commands:
        print(f"bugtracker: {grammar.unknown_verb(verb, grammar.CLI)}", file=sys.stderr)
        print(SHORT_USAGE.format(commands=", ".join(commands)), file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(words)
    try:
        if not getattr(args, "uses_store", True):  # help, completion: nothing to configure
            return args.handler(args, None)
        # only `bot` talks to Slack: the other commands do not read (or refuse) the SLACK_* settings
        config = load_config(slack=getattr(args, "uses_slack", False))
        if args.db:  # the command line beats the environment: --db means this SQLite file
            store = dataclasses.replace(config.store, sqlite_path=args.db, dynamodb_table=None)
            config = dataclasses.replace(config, store=store)
        # the bot's console is a conversation: WARNING there unless asked (bot/run.py default_log_level)
        console = args.command == "bot" and config.slack is None
        asked = args.verbose or (getattr(args, "long_running", False) and not console)
        configure_for(config, default_level="INFO" if asked else "WARNING", quiet_libraries=not asked)
        return args.handler(args, config)
    except StoreMissing as exc:
        print(
            f"error: {exc}; create one there with `bugtracker init`, or choose another file with --db PATH"
            " or BUGTRACKER_DB (or DYNAMODB_TABLE for DynamoDB)",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    except (ConfigError, StoreUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except CreateNotConfigured as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except (services.UsageError, grammar.GrammarError, InvalidPriority, InvalidTicketId) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BugTrackerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED


def _first_word(words: Sequence[str]) -> str | None:
    """The command word, past the global options (`--db PATH` takes a value); None if there is none."""
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word == "--db":
            skip = True
        elif word == "--" or not word.startswith("-"):
            return None if word == "--" else word
    return None
