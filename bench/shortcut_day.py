"""Shortcut requests a day at steady state: a workspace of 50,000 stories synced every SYNC_INTERVAL_SECONDS
(300 s: 288 runs) for one simulated day, with the recheck's count comparisons every eight hours.

    .venv/bin/python -u -m bench.shortcut_day [--stories 50000] [--changes 200] [--deletions 5]

The fake Shortcut serves the real search (day-granular `updated:` / `created:` in the workspace's zone, 250 a
page, the 1,000-result cap), POST /stories/search (date-times, a plain array of at most 1,000), GET
/stories/{id} (404 once deleted) and GET /member; the store is SQLite.
After the backfill (not counted), one day is simulated with an injected clock: `--changes` stories change
and `--deletions` are deleted at moments spread over the day. Printed: requests that day by kind, beside the
target (300 a day in all), the deletions found and when, and the earlier release's figure for the same day
(its recheck read 200 stories a run, about 8,300 a day at 50,000 stories, on top of the pulls).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.shortcut_http import ShortcutHttp  # noqa: E402
from adapters.shortcut_pull import ShortcutPull  # noqa: E402
from bot.sync.recheck import RECHECK_EVERY_SECONDS  # noqa: E402
from bot.sync.runner import run_sync  # noqa: E402
from storage.sqlite import SqliteStore  # noqa: E402
from tests.fakes.shortcut import FakeShortcut, iso  # noqa: E402

RUNS_A_DAY = 288  # SYNC_INTERVAL_SECONDS 300
TARGET = 300


def kind(path: str, query: dict) -> str:
    if path.endswith("/search/stories"):
        text = (query.get("query") or [""])[0]
        if "created:" not in text:
            return "pull search"
        return "recheck count" if query.get("page_size") == ["1"] else "recheck listing"
    if path.endswith("/stories/search"):
        return "recheck listing by creation time (POST /stories/search)"
    if "/stories/" in path and path.rsplit("/", 1)[-1].isdigit():
        return "GET /stories/{id}"
    return path.removeprefix("/api/v3")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--deletions", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    day_start = datetime(2026, 12, 7, 0, 2, tzinfo=UTC)
    with FakeShortcut() as fake:
        step = timedelta(minutes=30)
        fake._clock = day_start - timedelta(days=1) - args.stories * step
        for story_id in range(1, args.stories + 1):
            fake.add_story(story_id, step=step)
        now = [day_start - timedelta(hours=1)]
        # The throttle (200 requests a minute) keeps the simulated day's time too, plus the real time that
        # passes while the backfill runs at one simulated moment: on the wall clock, 288 runs in a few
        # seconds would trip it and sleep out real minutes a real day never waits.
        http = ShortcutHttp(
            fake.api_url, fake.token, backoff_factor=0.01, timeout=10,
            clock=lambda: now[0].timestamp() + time.monotonic(),
        )  # fmt: skip
        pull = ShortcutPull(http, "type:bug", clock=lambda: now[0])
        store = SqliteStore(Path(tempfile.mkdtemp()) / "bench.db")
        store.init()
        started = time.perf_counter()
        backfill = run_sync(store, pull, clock=lambda: now[0].timestamp())
        assert backfill.error is None and backfill.inserted == args.stories, backfill.line()
        seconds = time.perf_counter() - started
        print(f"backfill of {args.stories} stories: {backfill.requests} requests, {seconds:.0f}s")
        changes = {
            RUNS_A_DAY * n // max(args.changes, 1): 1 + (n * 7919) % args.stories for n in range(args.changes)
        }
        spread = 2 * max(args.deletions, 1)
        deletions = {
            RUNS_A_DAY * (2 * n + 1) // spread: 1 + (n * 104_729) % args.stories
            for n in range(args.deletions)
        }
        first = len(fake.requests)
        found: dict[int, float] = {}
        deleted_at: dict[int, float] = {}
        started = time.perf_counter()
        for run in range(RUNS_A_DAY):
            now[0] = day_start + timedelta(seconds=300 * run)
            if run in changes and changes[run] in fake.stories:
                fake.stories[changes[run]].update(
                    name="changed", updated_at=iso(now[0] - timedelta(seconds=30))
                )
            if run in deletions:
                fake.delete(deletions[run])
                deleted_at[deletions[run]] = now[0].timestamp()
            summary = run_sync(store, pull, clock=lambda: now[0].timestamp())
            assert summary.error is None, summary.line()
            for story_id in deleted_at:
                if story_id not in found and store.get_record("shortcut", str(story_id)).deleted:
                    found[story_id] = now[0].timestamp() - deleted_at[story_id]
        day = Counter(kind(path, query) for _, path, query in fake.requests[first:])
        total = sum(day.values())
        print(f"one day at steady state, {RUNS_A_DAY} runs ({time.perf_counter() - started:.0f}s):")
        for name, count in day.most_common():
            print(f"  {name:<58} {count:5d}")
        print(f"  {'all':<58} {total:5d}   target <= {TARGET}: {'met' if total <= TARGET else 'NOT met'}")
        comparisons = sum(1 for _ in range(0, RUNS_A_DAY * 300, RECHECK_EVERY_SECONDS))
        at_rest = day["pull search"] + day["/member"] + comparisons
        print(
            f"  at rest (no deletion): {at_rest} (pulls, /member, one count a comparison);"
            f" the {len(deleted_at)} deletion(s) cost {total - at_rest} more"
        )
        waits = sorted(found.values())
        print(
            f"deletions found: {len(found)} of {len(deleted_at)}"
            + (f", after {waits[0] / 3600:.1f} h to {waits[-1] / 3600:.1f} h" if waits else "")
        )
        reads = args.stories // 6  # every story read once within six days
        print(f"the earlier release, same day: {RUNS_A_DAY} pulls + about {reads} story reads")


if __name__ == "__main__":
    main()
