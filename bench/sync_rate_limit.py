"""Benchmark a backfill bound only by the upstreams' rate limits, against fakes that enforce them.

    .venv/bin/python -m bench.sync_rate_limit [--scale 10] [--tickets 20000] [--per-page 200]
        [--stories 20000] [--shortcut-divisor 10] [--rss-sizes 10000,50000]

The fakes enforce each upstream's real limit with the minute scaled down `--scale` times (10: a minute
lasts 6 s): Zendesk's incremental export 10 requests a minute and its general API 700 (users/show_many,
custom_statuses); Shortcut's 200 requests a minute divided by `--shortcut-divisor` (a backfill of 20,000
stories is about 90 requests: undivided, the limit would never bind), the pull's own pace (195 of the 200)
divided the same way, its share kept by a window 200/195 longer.
The limit sets a floor on a backfill's wall time: with L
requests a window W, request k can go no earlier than W * floor(k / L), so R requests take at least
W * floor((R - 1) / L). Printed for each: wall time, floor, their ratio (target <= 1.15), requests, 429s,
and the requests per page needed (pages of the largest size the items fill: target <= 1.1; Shortcut: search
requests, beside the two it asks once for the workspace and its workflow states).

- Zendesk, `--until-done` (one run waiting as long as the limit says) and scheduled runs (each stops after
  SYNC_RATELIMIT_BUDGET_SECONDS of waiting, 300 s scaled, and the next starts a second later, scaled:
  bot/sync/scheduler.py);
- Shortcut, `--until-done`, its floor both at Shortcut's 200/min and at the pull's own 195/min pace;
- peak RSS (VmHWM) of a real `bugtracker sync --source zendesk --until-done` process at each size, on
  SQLite, against a fake enforcing the scaled export limit.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.shortcut_http import REQUESTS_PER_MINUTE
from bench.sync_backfill import _EnvDict, _peak_rss_mb, add_tickets
from bot.sync.runner import run_sync
from bot.sync.scheduler import CONTINUE_AFTER_SECONDS
from storage.sqlite import SqliteStore
from tests.fakes.shortcut import FakeShortcut, shortcut_pull
from tests.fakes.zendesk import EXPORT_PATH, FakeZendesk, point_zenpy_at, zendesk_pull

EXPORT_LIMIT, API_LIMIT, SHORTCUT_LIMIT = 10, 700, 200  # requests a minute
BUDGET_SECONDS = 300  # SYNC_RATELIMIT_BUDGET_SECONDS' default


def floor_seconds(requests: int, limit: int, window: float) -> float:
    return window * ((requests - 1) // limit) if requests > 0 else 0.0


def _store() -> SqliteStore:
    store = SqliteStore(Path(tempfile.mkdtemp()) / "bench.db")
    store.init()
    return store


def zendesk_backfill(tickets: int, per_page: int, scale: float, scheduled: bool) -> dict:
    window = 60.0 / scale
    limits = {"export": (EXPORT_LIMIT, window), "api": (API_LIMIT, window)}
    with FakeZendesk(rate_limits=limits) as fake:
        add_tickets(fake, tickets)
        pull = zendesk_pull(fake, _EnvDict(dict(os.environ)), per_page=per_page)
        point_zenpy_at(fake, _EnvDict(os.environ))
        pull.set_ratelimit_budget(BUDGET_SECONDS / scale if scheduled else math.inf)
        store, runs = _store(), 0
        started = time.perf_counter()
        while True:
            summary = run_sync(store, pull)
            runs += 1
            assert summary.error is None, summary.error
            if not summary.continues:
                break
            time.sleep(CONTINUE_AFTER_SECONDS / scale)
        wall = time.perf_counter() - started
        pages = fake.count(EXPORT_PATH) - fake.limiters["export"].refused
        others = len(fake.requests) - fake.count(EXPORT_PATH) - fake.limiters["api"].refused
        stored = store.counts().by_source.get("zendesk", 0)
    assert stored == tickets, (stored, tickets)
    floor = floor_seconds(pages, EXPORT_LIMIT, window)
    refused = fake.limiters["export"].refused
    return {
        "wall": wall,
        "floor": floor,
        "requests": pages,
        "others": others,
        "minimum": math.ceil(tickets / per_page),
        "refused": refused,
        "runs": runs,
    }


def shortcut_backfill(stories: int, scale: float, divisor: int) -> dict:
    window, limit = 60.0 / scale, SHORTCUT_LIMIT // divisor
    # the pull's pace, scaled as the limit is: its share of the limit (195 of 200) kept in the window's
    # length, since dividing 195 requests would round away the headroom
    pace_window = window * SHORTCUT_LIMIT / REQUESTS_PER_MINUTE
    with FakeShortcut(rate_limit=(limit, window)) as fake:
        step = timedelta(hours=1)
        fake._clock = datetime.now(UTC) - stories * step  # the newest changes are recent, as in a workspace
        for story_id in range(1, stories + 1):
            fake.add_story(story_id, step=step)
        answered: list[tuple[str, int]] = []  # (path, status) of every request, to leave the 429s out
        route_body = fake.route_body

        def recording(method: str, path: str, query: dict, headers: Any, raw: bytes) -> tuple[int, Any, dict]:
            answer = route_body(method, path, query, headers, raw)
            answered.append((path, answer[0]))
            return answer

        fake.route_body = recording  # type: ignore[method-assign]
        pull = shortcut_pull(fake, window_seconds=pace_window, requests_per_minute=limit)
        pull.set_ratelimit_budget(math.inf)
        store = _store()
        started = time.perf_counter()
        summary = run_sync(store, pull)
        wall = time.perf_counter() - started
        assert summary.error is None and summary.inserted == stories, summary.line()
        sent = len(fake.requests) - fake.limiter.refused
        searches = sum(  # answered ones: a 429 is waited out and asked again
            1
            for path, status in answered
            if status != 429 and path.endswith(("/search/stories", "/stories/search"))
        )
    minimum = math.ceil(stories / 250)
    return {
        "wall": wall,
        "floor": floor_seconds(sent, limit, window),
        "pace_floor": floor_seconds(sent, limit, pace_window),
        "requests": searches,
        "others": sent - searches,
        "minimum": minimum,
        "refused": fake.limiter.refused,
    }


def peak_rss(tickets: int, scale: float) -> float:
    """Max RSS (MB) of `bugtracker sync --source zendesk --until-done` into SQLite at the export limit."""
    window = 60.0 / scale
    with FakeZendesk(rate_limits={"export": (EXPORT_LIMIT, window), "api": (API_LIMIT, window)}) as fake:
        add_tickets(fake, tickets)
        env = dict(os.environ)
        point_zenpy_at(fake, _EnvDict(env))
        db = Path(tempfile.mkdtemp()) / "bench.db"
        env.update(
            ZENDESK_SUBDOMAIN=fake.subdomain,
            ZENDESK_EMAIL=fake.email,
            ZENDESK_API_TOKEN=fake.token,
            BUGTRACKER_DB=str(db),
            LOG_LEVEL="WARNING",
        )
        for name in ("SHORTCUT_API_TOKEN", "DYNAMODB_TABLE"):
            env.pop(name, None)
        bugtracker = str(Path(sys.executable).with_name("bugtracker"))
        subprocess.run([bugtracker, "init"], env=env, check=True, capture_output=True)
        command = [bugtracker, "sync", "--source", "zendesk", "--until-done"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        return _peak_rss_mb(process)


def _line(label: str, result: dict) -> str:
    ratio = result["wall"] / result["floor"] if result["floor"] else float("nan")
    per_page = result["requests"] / result["minimum"]
    return (
        f"{label:<44} wall {result['wall']:6.1f}s  floor {result['floor']:6.1f}s  ratio {ratio:4.2f}"
        f"  requests {result['requests']:4d} / pages needed {result['minimum']:4d} = {per_page:4.2f}"
        f" (+{result['others']} others)  429s {result['refused']:4d}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=10.0, help="a minute lasts 60/scale seconds")
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--per-page", type=int, default=200)
    parser.add_argument("--stories", type=int, default=20_000)
    parser.add_argument("--shortcut-divisor", type=int, default=40)
    parser.add_argument("--rss-sizes", default="10000,50000")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    print(f"limits scaled {args.scale:g}x: a minute lasts {60 / args.scale:g}s")
    until_done = zendesk_backfill(args.tickets, args.per_page, args.scale, scheduled=False)
    print(_line(f"Zendesk {args.tickets} tickets, --until-done", until_done))
    scheduled = zendesk_backfill(args.tickets, args.per_page, args.scale, scheduled=True)
    print(_line(f"Zendesk {args.tickets} tickets, scheduled runs", scheduled) + f"  runs {scheduled['runs']}")
    shortcut = shortcut_backfill(args.stories, args.scale, args.shortcut_divisor)
    pace = shortcut["wall"] / shortcut["pace_floor"] if shortcut["pace_floor"] else float("nan")
    print(
        _line(f"Shortcut {args.stories} stories, --until-done", shortcut)
        + f"  (ratio to the pull's {REQUESTS_PER_MINUTE}/min pace {pace:4.2f})"
    )
    for size in [int(size) for size in args.rss_sizes.split(",") if size]:
        print(
            f"peak RSS of `bugtracker sync --source zendesk --until-done`, {size} tickets: "
            f"{peak_rss(size, args.scale):.0f} MB"
        )


if __name__ == "__main__":
    main()
