"""`bugtracker sync [--source zendesk|shortcut|all] [--full] [--wait]`: pull once (cron, a one-off job, a
backfill). When another runner holds a source's lease the line names it and when its lease frees; `--wait`
waits for it instead.

A run shows a progress bar on stderr when stderr is a terminal; every run ends with one summary line per
source on stdout: fetched / inserted / updated / unchanged / failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.bootstrap import SOURCE_NAMES, build_source, build_status_board, build_store
from bot.cli import progress
from bot.cli.exit_codes import EXIT_OK, EXIT_REFUSED, EXIT_UNAVAILABLE
from bot.cli.help import examples
from bot.config import Config
from bot.sync.lease import frees_at, holder_name
from bot.sync.runner import SyncSummary, run_sync


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="pull Zendesk tickets and Shortcut stories into the store once",
        epilog=examples(
            "bugtracker sync                   # every configured source; a progress bar on a terminal",
            "bugtracker sync --source zendesk --full",
            "bugtracker sync --wait --json     # cron: wait for a running sync, then a JSON summary",
        ),
    )
    parser.add_argument(
        "--source", choices=(*SOURCE_NAMES, "all"), default="all", help="which source (default all)"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="ignore the saved cursor and pull again from SYNC_START (or all history)",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="when another sync of a source is running, wait for it to finish instead of skipping",
    )
    parser.set_defaults(handler=run_sync_command)


def run_sync_command(args: argparse.Namespace, config: Config) -> int:
    names = SOURCE_NAMES if args.source == "all" else (args.source,)
    sources = [source for name in names if (source := build_source(config, name)) is not None]
    if not sources:
        print(
            "error: no source to sync: set ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and ZENDESK_API_TOKEN,"
            " and/or SHORTCUT_API_TOKEN",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    store = build_store(config)
    store.check()
    # no Slack here: the changes are noted in the store and the running bot announces them
    # (bot/slack/status_board.py)
    board = build_status_board(config, store)
    summaries: list[SyncSummary] = []
    for source in sources:
        backfill = args.full or store.get_meta(source.meta_key) is None
        bar = _ProgressBar(f"{'backfill' if backfill else 'sync'} {source.name}")
        try:
            summary = run_sync(
                store,
                source,
                full=args.full,
                lease_ttl=config.sync.lease_seconds,
                progress=bar.update if bar else None,
                wait=getattr(args, "wait", False),
                waiting=_waiting_line(source.name),
                notifier=board,
            )
        finally:
            if bar:
                bar.close()
        summaries.append(summary)
    if getattr(args, "json", False):
        print(json.dumps([summary.as_dict() for summary in summaries], indent=2))
    else:
        for summary in summaries:
            print(summary.line())
    return EXIT_REFUSED if any(summary.error for summary in summaries) else EXIT_OK


def _waiting_line(name: str) -> Any:
    def say(lease: Any) -> None:
        print(
            f"{name}: waiting for the sync held by {holder_name(lease.owner)}"
            f" (its lease frees at {frees_at(lease)} unless renewed)",
            file=sys.stderr,
            flush=True,
        )

    return say


class _ProgressBar:
    """tqdm over the records fetched; the total appears once the API tells it (Shortcut's search does)."""

    def __init__(self, desc: str) -> None:
        self.bar = progress.bar(desc=desc)  # none when stderr is not a terminal (cron, CI logs)

    def update(self, page: Any, summary: SyncSummary) -> None:
        if page.total_hint is not None and self.bar.total is None:
            self.bar.total = page.total_hint
            self.bar.refresh()
        self.bar.update(len(page.records) + len(page.failures))

    def close(self) -> None:
        self.bar.close()
