"""Benchmark: the ranked read of open bugs by impact (`top`), as the table grows, side by side with ranking
the same bugs from a full pass over the records (what `top` would cost without the kept tallies).

    .venv/bin/python -m bench.impact_top [--sizes 1000 10000 100000] [--per-bug 10]

DynamoDB on a moto server over HTTP, requests counted by a botocore `before-call.dynamodb` handler. Each size
gets one table of N records grouped into bugs of --per-bug records (Slack reports by several authors and
Zendesk tickets under a Shortcut story; one bug in five done). Twenty bugs are first written through the
store's own path (upsert_many, then a link of each record), so the ranked index is also checked after
ordinary writes; the rest and their `#impact` items are loaded with BatchWriteItem (the items `recount`
would write: storage/impact.py's tally), so loading stays quick.

Printed per size: requests and milliseconds of `top_impacts(10)` (AFTER), and of ranking from a Scan of every
record (BEFORE: the pages a full pass reads), the answers checked equal. moto is not DynamoDB (its Query sorts
the whole index), so request counts carry over, milliseconds do not.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storage import dynamodb_items as items  # noqa: E402
from storage import impact  # noqa: E402
from storage.dynamodb import DynamoDBStore  # noqa: E402
from storage.model import BugRecord  # noqa: E402
from tests.support.builders import shortcut_record, slack_record, zendesk_record  # noqa: E402

TOP = 10
WRITTEN = 20  # bugs written and linked through the store's own path before the bulk load


def bug_records(number: int, per_bug: int) -> list[BugRecord]:
    """One bug: a story SC-<number> and per_bug - 1 reports / tickets under it; one bug in five is done."""
    story_id = f"SC-{number}"
    done = number % 5 == 0
    story = shortcut_record(
        number, state="Done" if done else "In Progress", state_type="done" if done else "started"
    )
    records = [replace(story, ticket_id=story_id)]  # ticket_id: where it lives (the bulk load's location)
    size = 1 + (number * 7919) % (2 * per_bug - 2)  # bugs of different sizes: a ranking to find
    for k in range(1, size):
        unique = number * 1000 + k
        if k % 3:
            report = slack_record(unique)
            attributes = {**report.attributes, "author": f"U{unique % (number + 5)}", "channel": "C0BUGS"}
            records.append(replace(report, attributes=attributes, ticket_id=story_id))
        else:
            ticket = zendesk_record(unique)
            attributes = {**ticket.attributes, "requester": f"customer{unique % 17}@example.com"}
            records.append(replace(ticket, attributes=attributes, ticket_id=story_id))
    return records


def load(store: DynamoDBStore, size: int, per_bug: int, first: int) -> list[BugRecord]:
    records: list[BugRecord] = []
    number = first - 1
    while len(records) < size:
        number += 1
        records += bug_records(number, per_bug)
    records = records[:size]
    store.port.batch_put([items.record_item(record, record.location) for record in records])
    tallies = impact.tally(records)
    store.port.batch_put([items.impact_item(replace(found, revision=1)) for found in tallies.values()])
    return records


def ranked_by_scan(store: DynamoDBStore) -> list[str]:
    """BEFORE: every record read (a paged Scan), tallied, ranked."""
    return [bug.ticket_id for bug in ranked_from(list(impact.tally(store.scan_records()).values()))]


def measure(calls: Counter[str], action: Any) -> tuple[Any, dict[str, int], float]:
    before = Counter(calls)
    started = time.perf_counter()
    result = action()
    return result, dict(calls - before), (time.perf_counter() - started) * 1000


def tallies_of(store: DynamoDBStore, size: int, per_bug: int) -> list[impact.Impact]:
    """What the table's tallies hold, from the bugs the bench wrote (no read of the table)."""
    records: list[BugRecord] = []
    for number in range(1, WRITTEN + 1):
        records += bug_records(number, per_bug)
    loaded: list[BugRecord] = []
    number = WRITTEN
    while len(loaded) < size:
        number += 1
        loaded += bug_records(number, per_bug)
    return list(impact.tally([*records, *loaded[:size]]).values())


def ranked_from(tallies: list[impact.Impact]) -> list[impact.Impact]:
    open_bugs = [bug for bug in tallies if bug.rank is not None]
    open_bugs.sort(key=lambda bug: bug.rank or "", reverse=True)
    return open_bugs[:TOP]


def run_size(client: Any, calls: Counter[str], size: int, per_bug: int, full_pass_max: int) -> dict[str, Any]:
    store = DynamoDBStore(client, f"bench-impact-{size}")
    store.init()
    # First, into a small table (moto deep-copies its whole table for every action of a transaction):
    # bugs written through the store's own path, so the index is also checked after ordinary writes.
    for number in range(1, WRITTEN + 1):
        store.upsert_many([replace(record, ticket_id=None) for record in bug_records(number, per_bug)])
        for record in bug_records(number, per_bug)[1:]:
            store.link(record.home_id, f"SC-{number}", actor="bench")
    started = time.perf_counter()
    load(store, size, per_bug, first=WRITTEN + 1)
    loaded = time.perf_counter() - started
    after, after_calls, after_ms = measure(calls, lambda: [b.ticket_id for b in store.top_impacts(TOP)])
    if size > full_pass_max:  # moto's Scan takes minutes at this size; the ranked read is what is measured
        expected = [bug.ticket_id for bug in ranked_from(tallies_of(store, size, per_bug))]
        if after != expected:
            raise RuntimeError(f"benchmark check failed: top {after} != the tallies' ranking {expected}")
        return {"size": size, "loaded": loaded, "after_calls": after_calls, "after_ms": after_ms}
    before, before_calls, before_ms = measure(calls, lambda: ranked_by_scan(store))
    if after != before:
        raise RuntimeError(f"benchmark check failed: top {after} != ranked from a scan {before}")
    return {
        "size": size,
        "loaded": loaded,
        "after_calls": after_calls,
        "after_ms": after_ms,
        "before_calls": before_calls,
        "before_ms": before_ms,
    }


def report(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'records':>8}  {'top: requests':>14} {'ms':>7}   {'full pass: requests':>20} {'ms':>8}  ratio"
    ]
    for row in rows:
        after = sum(row["after_calls"].values())
        if "before_calls" not in row:
            lines.append(
                f"{row['size']:>8}  {after:>14} {row['after_ms']:>7.1f}   {'(not run)':>20} {'':>8}"
                f"         ({', '.join(f'{k} {v}' for k, v in row['after_calls'].items())})"
            )
            continue
        before = sum(row["before_calls"].values())
        lines.append(
            f"{row['size']:>8}  {after:>14} {row['after_ms']:>7.1f}   {before:>20} {row['before_ms']:>8.0f}"
            f"  {before / after:>5.0f}x   ({', '.join(f'{k} {v}' for k, v in row['after_calls'].items())})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--per-bug", type=int, default=10, help="records per bug, on average")
    parser.add_argument(
        "--full-pass-max", type=int, default=10_000, help="the largest size also ranked from a full Scan"
    )
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = boto3.client(
            "dynamodb",
            endpoint_url=f"http://{host}:{port}",
            region_name="us-east-1",
            aws_access_key_id="bench-fake-key",
            aws_secret_access_key="bench-fake-secret",
        )
        calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
        rows = [run_size(client, calls, size, args.per_bug, args.full_pass_max) for size in args.sizes]
    finally:
        server.stop()
    print(f"Ranked read of open bugs (top {TOP}), moto server on {host}; bugs of ~{args.per_bug} records")
    print(report(rows))


if __name__ == "__main__":
    main()
