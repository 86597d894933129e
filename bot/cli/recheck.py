"""`bugtracker recheck [--source shortcut]`: compare the stored stories with Shortcut now
(bot/sync/recheck.py), for a person who knows that stories were deleted; the scheduled sync compares every
few hours anyway. It waits on no rate-limit budget (Shortcut's limit sets its pace), saves where it is
after each step (an interrupted recheck resumes there) and holds the source's sync lease only for a step
at a time, so the scheduled pulls go on between its steps.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from bot.bootstrap import build_source, build_status_board, build_store
from bot.cli import progress
from bot.cli.exit_codes import EXIT_OK, EXIT_REFUSED, EXIT_UNAVAILABLE
from bot.cli.help import examples
from bot.config import Config, not_configured
from bot.sync.lease import HeldLease, default_owner, frees_at, holder_name, take_lease
from bot.sync.recheck import RecheckResult, RecheckStopped, recheck_everything

RECHECKED_SOURCES = ("shortcut",)  # Zendesk's export reports deletions itself


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "recheck",
        help="compare the stored stories with Shortcut now (deleted ones are marked deleted)",
        epilog=examples(
            "bugtracker recheck                # counts by creation day; reads only what differs",
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
        print(f"error: {not_configured(args.source)}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    store = build_store(config)
    store.check()
    lease_name, owner, ttl = f"sync:{source.name}", default_owner(), config.sync.lease_seconds
    board = build_status_board(config, store)  # deletions are noted; the running bot announces them
    bar = progress.bar(" stories", store.counts().by_source.get(source.name), desc=f"recheck {source.name}")

    @contextmanager
    def hold() -> Iterator[None]:
        """The sync lease for one step: a running pull is waited for, and goes on after the step."""
        told = False
        while True:
            taken, held = take_lease(store, lease_name, owner, ttl)
            if taken:
                break
            if held is not None and not told:
                who = f"{holder_name(held.owner)}; its lease frees at {frees_at(held)}"
                print(
                    f"{source.name}: waiting for a sync of {source.name} to finish ({who})", file=sys.stderr
                )
                told = True
            time.sleep(1.0)
        lease = HeldLease(store, lease_name, owner, ttl).start()
        try:
            yield
            lease.check()
        finally:
            lease.stop()

    def step(result: RecheckResult) -> None:
        if board is not None and result.changed:
            board.records_changed(result.changed)
        bar.update(result.checked)

    try:
        result = recheck_everything(store, source, progress=step, hold=hold)
    except RecheckStopped as exc:
        print(f"{source.name}: not rechecked: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        bar.close()
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
