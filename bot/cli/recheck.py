"""`bugtracker recheck [--source shortcut]`: ask the source about every stored record at once, for a person
who knows that stories were deleted. The scheduled rotation (bot/sync/recheck.py) asks about each one within
a week anyway; this runs the whole sweep now, one request a story under the source's self-throttle, holding
the source's sync lease (a running sync makes it stop with a line naming it, exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from bot.bootstrap import build_source, build_status_board, build_store
from bot.cli import progress
from bot.cli.exit_codes import EXIT_OK, EXIT_REFUSED, EXIT_UNAVAILABLE
from bot.cli.help import examples
from bot.config import Config
from bot.sync.lease import HeldLease, default_owner, frees_at, holder_name, take_lease
from bot.sync.recheck import RecheckResult, recheck_everything

RECHECKED_SOURCES = ("shortcut",)  # Zendesk's export reports deletions itself


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "recheck",
        help="ask Shortcut about every stored story now (deleted ones are marked deleted)",
        epilog=examples(
            "bugtracker recheck                # every stored Shortcut story, one request each",
            "bugtracker recheck --json",
        ),
    )
    parser.add_argument(
        "--source", choices=RECHECKED_SOURCES, default="shortcut", help="which source (default shortcut)"
    )
    parser.set_defaults(handler=run_recheck_command)


def run_recheck_command(args: argparse.Namespace, config: Config) -> int:
    source = build_source(config, args.source)
    if source is None:
        print(f"error: {args.source} is not configured: set SHORTCUT_API_TOKEN", file=sys.stderr)
        return EXIT_UNAVAILABLE
    store = build_store(config)
    store.check()
    lease_name, owner = f"sync:{source.name}", default_owner()
    taken, held = take_lease(store, lease_name, owner, config.sync.lease_seconds)
    if not taken:
        who = f" ({holder_name(held.owner)}; its lease frees at {frees_at(held)})" if held else ""
        print(f"{source.name}: not rechecked, a sync of {source.name} is running{who}; run it again after it")
        return EXIT_REFUSED
    lease = HeldLease(store, lease_name, owner, config.sync.lease_seconds).start()
    board = build_status_board(config, store)  # deletions are noted; the running bot announces them
    bar = progress.bar(" stories", store.counts().by_source.get(source.name), desc=f"recheck {source.name}")

    def step(result: RecheckResult) -> None:
        lease.check()
        if board is not None and result.changed:
            board.records_changed(result.changed)
        bar.update(result.checked)

    try:
        result = recheck_everything(store, source, progress=step)
    finally:
        bar.close()
        lease.stop()
    stats = source.stats
    if getattr(args, "json", False):
        summary = {k: v for k, v in asdict(result).items() if k != "changed"}
        print(json.dumps({"source": source.name, **summary, "requests": stats.requests}, indent=2))
    else:
        print(
            f"{source.name}: rechecked {result.checked}, {result.gone} deleted upstream,"
            f" {result.updated} changed ({stats.requests} requests)"
        )
    return EXIT_OK
