"""Benchmark: what the status board adds to a pull, on the embedded SQLite store, side by side.

A pull of N Zendesk tickets (a first backfill, then an incremental pull changing 1% of them), M of the
tickets holding a linked Slack report, run once without a notifier and once with the status board (noting
pending tickets in the store; announcements go to a transport that only counts them). Printed: the pull's
wall time each way and the ratio, tickets noted, announcements made. The board's cost is one `show` per
changed ticket (does it hold reports?), paid during the pull; announcing runs after it.
Run: .venv/bin/python -m bench.status_updates [--tickets 2000 --reports 50]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from adapters.pull import PulledPage, PullStats
from bot.slack.status_board import PENDING_KEY, StatusBoard
from bot.sync.runner import run_sync
from storage.sqlite import SqliteStore
from tests.support.builders import slack_record, zendesk_record

PAGE = 1000


class Pages:
    name, meta_key = "zendesk", "bench:zendesk"

    def __init__(self, records: list[Any]) -> None:
        self.records, self.stats = records, PullStats()

    def pull(self, saved: Any, full: bool = False):
        for start in range(0, len(self.records), PAGE):
            yield PulledPage(self.records[start : start + PAGE], checkpoint={"at": start})


class Counting:
    def __init__(self) -> None:
        self.told = 0

    def announce(self, announcement: Any) -> dict[str, Any]:
        self.told += 1
        return {"channel": "C0BENCH", "ts": "1.000001"}


def one_run(directory: Path, tickets: int, reports: int, with_board: bool) -> dict[str, float]:
    store = SqliteStore(directory / f"bench-{with_board}.db")
    store.init()
    for n in range(1, reports + 1):  # reports tagged with a ticket before the ticket is synced
        store.upsert_linked(slack_record(n), f"ZD-{n}", actor="U0BENCH")
    transport = Counting()
    board = StatusBoard(store, transport) if with_board else None
    first = [zendesk_record(n, status="open") for n in range(1, tickets + 1)]
    started = time.perf_counter()
    run_sync(store, Pages(first), notifier=board)
    backfill = time.perf_counter() - started
    noted = len((store.get_meta(PENDING_KEY) or {}).get("tickets") or [])
    if board:
        board.flush()
    changed = [zendesk_record(n, status="solved", updated=10) for n in range(1, tickets + 1, 100)]  # 1%
    started = time.perf_counter()
    run_sync(store, Pages(changed), notifier=board)
    incremental = time.perf_counter() - started
    if board:
        board.flush()
    store.close()
    return {"backfill": backfill, "incremental": incremental, "noted": noted, "told": transport.told,
            "changed": len(changed)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--reports", type=int, default=50)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        plain = one_run(Path(tmp), args.tickets, args.reports, with_board=False)
        board = one_run(Path(tmp), args.tickets, args.reports, with_board=True)
    print(f"status board, SQLite: {args.tickets} tickets, {args.reports} holding a linked Slack report")
    print(f"{'pull':<34}{'no notifier':>12}{'status board':>14}{'ratio':>8}")
    for name, label in (
        ("backfill", "first backfill"),
        ("incremental", f"incremental ({plain['changed']} changed)"),
    ):
        print(f"{label:<34}{plain[name]:>11.2f}s{board[name]:>13.2f}s{board[name] / plain[name]:>8.2f}")
    print(
        f"tickets noted during the backfill: {board['noted']}; reports told after both pulls: {board['told']}"
    )


if __name__ == "__main__":
    main()
