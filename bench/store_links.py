"""Benchmark: what link, unlink, a tagged report and a lease renewal cost, on both stores, side by side.

One run: the embedded SQLite store (a file in a temporary directory) and the DynamoDB store against moto's
server on 127.0.0.1 (a free port). For N Slack reports linked into ZD-1:
  - link ZD-1 -> ZD-2 moves N+1 records; unlink ZD-1 moves them back;
  - upsert_linked of a new tagged report (one commit: record, stub, alias, audit);
  - a lease renewal.
Printed per operation: wall time on each store, DynamoDB API calls by operation, and TransactWriteItems
against the fewest possible (one per 30 moved records). API calls are counted with a botocore
`before-call.dynamodb` handler. moto is not DynamoDB: call counts and ratios matter, absolute times do not.
Run: .venv/bin/python -m bench.store_links [--reports 300]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._support import CallCounter, dynamodb_client, moto_server
from storage.dynamodb import DynamoDBStore
from storage.sqlite import SqliteStore
from storage.store import BugStore
from tests.support.builders import slack_record, zendesk_record

PER_TRANSACTION = 30


def fill(store: BugStore, reports: int) -> None:
    records = [slack_record(n) for n in range(1, reports + 1)]
    store.upsert_many([*records, zendesk_record(1), zendesk_record(2)])
    for record in records:
        store.link(record.home_id, "ZD-1", actor="bench")


def expect(condition: bool, what: str) -> None:
    """The figures only mean something if the store did the right thing; stop loudly when it did not."""
    if not condition:
        raise RuntimeError(f"benchmark check failed: {what}")


def operations(store: BugStore, reports: int) -> list[tuple[str, int, Callable[[], Any]]]:
    """(name, records it moves, the call) in the order they run."""

    def link() -> None:
        expect(len(store.link("ZD-1", "ZD-2", actor="bench").moved) == reports + 1, "link moved all")

    def unlink() -> None:
        expect(len(store.unlink("ZD-1", actor="bench").moved) == reports + 1, "unlink moved all back")

    def tagged() -> None:
        result, _ = store.upsert_linked(slack_record(reports + 1), "ZD-2", actor="bench")
        expect(result.ticket_id == "ZD-2", "tagged report under its ticket")

    def lease() -> None:
        expect(store.acquire_lease("sync:bench", "bench", 60), "lease renewed")

    store.acquire_lease("sync:bench", "bench", 60)
    return [
        (f"link ZD-1 -> ZD-2 ({reports + 1} records)", reports + 1, link),
        (f"unlink ZD-1 ({reports + 1} records back)", reports + 1, unlink),
        ("upsert_linked, a new tagged report", 0, tagged),
        ("acquire_lease, a renewal", 0, lease),
    ]


def run(store: BugStore, reports: int, calls: Counter[str] | None) -> list[dict[str, Any]]:
    fill(store, reports)
    rows = []
    for name, moved, call in operations(store, reports):
        before = Counter(calls) if calls is not None else Counter()
        started = time.perf_counter()
        call()
        seconds = time.perf_counter() - started
        used = dict(sorted((calls - before).items())) if calls is not None else {}
        rows.append({"name": name, "moved": moved, "seconds": seconds, "calls": used})
    return rows


def report(sqlite_rows: list[dict[str, Any]], dynamodb_rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'operation':<40} {'SQLite':>9} {'DynamoDB':>9}  {'txns/min':>8}  DynamoDB API calls",
    ]
    for lite, dynamo in zip(sqlite_rows, dynamodb_rows, strict=True):
        transactions = dynamo["calls"].get("TransactWriteItems", 0)
        fewest = math.ceil(dynamo["moved"] / PER_TRANSACTION) + 1 if dynamo["moved"] else 0
        ratio = f"{transactions}/{fewest}" if fewest else "-"
        used = ", ".join(f"{name} {count}" for name, count in dynamo["calls"].items())
        lines.append(
            f"{dynamo['name']:<40} {lite['seconds'] * 1000:>7.1f}ms {dynamo['seconds'] * 1000:>7.0f}ms"
            f"  {ratio:>8}  {used} (total {sum(dynamo['calls'].values())})"
        )
    lines.append(
        "txns/min: TransactWriteItems used / fewest possible (the moves at 30 a transaction, + 1 to start)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=300, help="Slack reports linked into the ticket")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        sqlite_store = SqliteStore(Path(directory) / "bench.db")
        sqlite_rows = run(sqlite_store, args.reports, None)
        sqlite_store.close()
    with moto_server() as endpoint:
        client = dynamodb_client(endpoint)
        counter = CallCounter(client)
        dynamodb_store = DynamoDBStore(client, "bench-links")
        dynamodb_store.init()
        dynamodb_rows = run(dynamodb_store, args.reports, counter.calls)
    print(f"Link benchmark: {args.reports} Slack reports linked into ZD-1; SQLite file vs moto {endpoint}")
    print(report(sqlite_rows, dynamodb_rows))


if __name__ == "__main__":
    main()
