"""`bugtracker sync [--source zendesk|shortcut|all] [--full] [--wait] [--until-done]`: pull once (cron, a
one-off job, a backfill). When another runner holds a source's lease the line names it and when its lease
frees; `--wait` waits for it instead.

A run shows a progress bar on stderr when stderr is a terminal; every run ends with one summary line per
source on stdout: fetched / inserted / updated / unchanged / failed. A backfill that stops on the rate limit
after making progress is not a failure: exit 0, its line ends "backfill continues: N of about M", and the next
run carries on. `--until-done` waits on the rate limit as long as it takes and runs to the end, its bar
showing N of about M and the least time left that the upstream's limit allows.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from adapters.pull import SyncSource
from bot.bootstrap import SOURCE_NAMES, build_source, build_status_board, build_store, build_support_notes
from bot.cli import progress
from bot.cli.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED, EXIT_UNAVAILABLE
from bot.cli.help import examples
from bot.config import Config, not_configured
from bot.sync.backfill import estimate_size, seconds_at_limit
from bot.sync.changes import ChangeNotifier
from bot.sync.lease import frees_at, holder_name
from bot.sync.runner import SyncSummary, run_sync
from bot.tickets.notes import fan_out
from storage.primitives import Lease
from storage.store import BugStore


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="pull Zendesk tickets and Shortcut stories into the store once",
        epilog=examples(
            "bugtracker sync                   # every configured source; a progress bar on a terminal",
            "bugtracker sync --source zendesk --full",
            "bugtracker sync --wait --json     # cron: wait for a running sync, then a JSON summary",
            "bugtracker sync --until-done      # a first backfill, to the end, at the rate limit's pace",
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
    parser.add_argument(
        "--until-done",
        action="store_true",
        help="wait on the upstream's rate limit as long as it takes and run to the end (a first backfill);"
        " without it a run stops after SYNC_RATELIMIT_BUDGET_SECONDS of waiting and the next run carries on",
    )
    parser.set_defaults(handler=run_sync_command)


def run_sync_command(args: argparse.Namespace, config: Config) -> int:
    names = SOURCE_NAMES if args.source == "all" else (args.source,)
    sources = [source for name in names if (source := build_source(config, name)) is not None]
    if not sources:
        unset = "; ".join(not_configured(name) for name in names)
        print(f"error: no source to sync: {unset}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    store = build_store(config)
    store.check()
    # no Slack here: the changes are noted in the store and the running bot announces them
    # (bot/slack/status_board.py)
    # done stories queue their Zendesk notes (ZENDESK_NOTES=on) for the running bot to send
    board = fan_out(build_status_board(config, store), build_support_notes(config, store))
    try:
        summaries = _sync_each(args, config, store, sources, board)
    except KeyboardInterrupt:
        # each page's checkpoint is saved as it is written and the lease was given back (bot/sync/runner.py):
        # the next run starts where this one stopped
        print("interrupted; run it again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    if getattr(args, "json", False):
        print(json.dumps([summary.as_dict() for summary in summaries], indent=2))
    else:
        for summary in summaries:
            print(summary.line())
    return EXIT_REFUSED if any(summary.error for summary in summaries) else EXIT_OK


def _sync_each(
    args: argparse.Namespace,
    config: Config,
    store: BugStore,
    sources: list[SyncSource],
    board: ChangeNotifier | None,
) -> list[SyncSummary]:
    summaries: list[SyncSummary] = []
    until_done = getattr(args, "until_done", False)
    for source in sources:
        saved = store.get_meta(source.meta_key)
        backfill = args.full or saved is None or "backfill" in saved
        bar = _ProgressBar(f"{'backfill' if backfill else 'sync'} {source.name}", source)
        if until_done:
            source.set_ratelimit_budget(math.inf)  # asked to run to the end: wait as the limit says
            if backfill:
                bar.set_total(_about(saved) or estimate_size(store, source, saved))
        runs: list[SyncSummary] = []
        try:
            while not runs or (until_done and runs[-1].continues):
                runs.append(
                    run_sync(
                        store,
                        source,
                        full=args.full and not runs,
                        lease_ttl=config.sync.lease_seconds,
                        progress=bar.update,
                        wait=getattr(args, "wait", False),
                        waiting=_waiting_line(source.name),
                        notifier=board,
                    )
                )
        finally:
            bar.close()
        summaries.append(_combined(runs))
    return summaries


def _about(saved: dict[str, Any] | None) -> int | None:
    entry = (saved or {}).get("backfill")
    return entry.get("about") if isinstance(entry, dict) else None


_ADDED = ("fetched", "inserted", "updated", "unchanged", "stale", "failed", "linked", "rechecked", "gone")


def _combined(runs: list[SyncSummary]) -> SyncSummary:
    """One summary for the runs of one source (--until-done runs them back to back): counts added up,
    the rest as the last run left it."""
    if len(runs) == 1:
        return runs[0]
    combined = SyncSummary(**{f.name: getattr(runs[-1], f.name) for f in fields(SyncSummary)})
    for name in (*_ADDED, "requests", "rate_limit_wait", "seconds"):
        setattr(combined, name, sum(getattr(run, name) for run in runs))
    return combined


def _waiting_line(name: str) -> Callable[[Lease], None]:
    def say(lease: Lease) -> None:
        print(
            f"{name}: waiting for the sync held by {holder_name(lease.owner)}"
            f" (its lease frees at {frees_at(lease)} unless renewed)",
            file=sys.stderr,
            flush=True,
        )

    return say


class _ProgressBar:
    """tqdm over the records fetched, on stderr on a terminal only. The total is what the API tells
    (Shortcut's search total) or the backfill's estimate; with a total, the bar's postfix gives the least
    time the upstream's rate limit allows for the rest."""

    def __init__(self, desc: str, source: Any) -> None:
        self.bar = progress.bar(desc=desc)  # none when stderr is not a terminal (cron, CI logs)
        self.source = source

    def set_total(self, total: int | None) -> None:
        if total and self.bar.total is None:
            self.bar.total = total
            self.bar.refresh()

    def update(self, page: Any, summary: SyncSummary) -> None:
        self.set_total(page.total_hint)
        self.bar.update(len(page.records) + len(page.failures))
        if self.bar.total:
            left = seconds_at_limit(self.source, int(self.bar.total - self.bar.n))
            if left is not None:
                self.bar.set_postfix_str(f"at the rate limit ≥ {_duration(left)} left", refresh=False)

    def close(self) -> None:
        self.bar.close()


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
