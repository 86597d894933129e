"""What one bug-counts refresh costs: measured SQLite time, and DynamoDB reads from real index item sizes.

Run by hand: `.venv/bin/python -m bench.metrics_refresh [N ...]` (default 10000 100000). Prints, per N:
the time of `counts()` + `new_per_day()` on the embedded store, the time of one scrape (which only reads
the snapshot), and the DynamoDB read units one refresh cost with the first design (when counts read every live
record's index entry; now they are kept counters, docs/scale.md), from the size of the index entries the
store would write (attribute names + values, DynamoDB's item-size rules), 1 MB pages, 0.5 RCU per 4 KB.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client.exposition import generate_latest

from bot.metrics.bug_counts import BugCountsCollector
from storage.dynamodb_items import record_item
from storage.schema import INDEXES, PARTITION_KEY, SORT_KEY
from storage.sqlite import SqliteStore
from tests.support.builders import shortcut_record, slack_record, zendesk_record

TITLE = "Checkout button does nothing on Safari when the cart has a discount"  # 67 characters


def records(count: int):
    makers = (zendesk_record, shortcut_record, slack_record)
    for n in range(1, count + 1):
        maker = makers[n % 3]
        if maker is slack_record:
            yield maker(n, text=TITLE)
        else:
            yield maker(n, title=TITLE)


def _size(value) -> int:
    """DynamoDB item-size rules: strings as UTF-8, numbers about 1 byte per 2 digits + 1, booleans 1."""
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | float):
        return len(str(value)) // 2 + 1
    return len(str(value).encode())


def index_entry_size(record) -> int:
    index = next(spec for spec in INDEXES if spec.name == "live-source-index")
    item = record_item(record, record.home_id)
    kept = {PARTITION_KEY, SORT_KEY, index.partition_key, index.sort_key, *index.non_key_attributes}
    return sum(len(name) + _size(value) for name, value in item.items() if name in kept and value is not None)


def main(sizes: list[int]) -> None:
    for count in sizes:
        with tempfile.TemporaryDirectory() as folder:
            store = SqliteStore(Path(folder) / "bench.db")
            store.upsert_many(records(count))
            collector = BugCountsCollector(store)
            started = time.perf_counter()
            collector.refresh()
            refresh = time.perf_counter() - started

            started = time.perf_counter()
            for _ in range(100):
                generate_latest(collector)  # anything with collect() can be exposed
            scrape = (time.perf_counter() - started) / 100
            store.close()
        sample = list(records(300))
        average = sum(index_entry_size(record) for record in sample) / len(sample)
        total_bytes = average * count
        pages = max(3, math.ceil(total_bytes / 1_000_000))  # at least one query per source
        rcu = math.ceil(total_bytes / 4096) * 0.5
        print(
            f"N={count:>7}: sqlite refresh {refresh * 1000:7.1f} ms, scrape {scrape * 1000:5.2f} ms | "
            f"DynamoDB: index entry ~{average:.0f} B, {total_bytes / 1e6:.1f} MB, >= {pages} Query pages, "
            f"~{rcu:,.0f} RCU per refresh, {rcu * 1440 / 1e6:.2f} M RCU/day at 60 s"
        )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10_000, 100_000])
