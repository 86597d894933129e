"""`--help` text shared by the subcommands (each ends with examples people can copy), and the `help` verb."""

from __future__ import annotations

import argparse

from bot.cli.exit_codes import EXIT_OK
from bot.grammar import GrammarError, did_you_mean


def examples(*lines: str) -> str:
    """An argparse epilog: `examples:` then one command per line (the parser keeps the line breaks)."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def register(sub: argparse._SubParsersAction, parser: argparse.ArgumentParser) -> None:
    """`bugtracker help [VERB]`: the full help, or one verb's (as `bugtracker VERB --help`)."""
    helping = sub.add_parser(
        "help",
        help="this help, or one command's: bugtracker help list",
        epilog=examples("bugtracker help", "bugtracker help list"),
    )
    helping.add_argument("verb", nargs="?", help="a command")

    def _print(args: argparse.Namespace, _config: object) -> int:
        if args.verb is None:
            parser.print_help()
            return EXIT_OK
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if args.verb not in commands.choices:
            raise GrammarError(f"no command `{args.verb[:40]}`.{did_you_mean(args.verb, commands.choices)}")
        commands.choices[args.verb].print_help()
        return EXIT_OK

    helping.set_defaults(handler=_print, uses_store=False)
