"""Benchmark: the DynamoDB store's bulk upsert and its reads, against one moto server over HTTP.

One run, one moto server (started here on 127.0.0.1, a free port), side by side:
  1. bulk: `upsert_many` of N new records in chunks of 1,000 (as the sync does) vs a naive loop of single
     `put_item` calls for the same N records into a second table; wall time, records/s, API calls;
  2. reads with M items in the table: `show` latency for an unlinked id and for a linked SL- id (with the
     Query calls each show makes), `list_records` first pages by priority / state / source, `counts()`;
  3. re-upsert of the same N unchanged records: must write nothing (no BatchWriteItem / PutItem).
API calls are counted with a botocore `before-call.dynamodb` event handler, so every request is seen.
Run: .venv/bin/python -m bench.store_bulk [--records 20000] [--items 100000]
moto is not DynamoDB (its index queries walk the whole table): ratios and call counts matter, absolute
numbers do not.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench._support import CallCounter, dynamodb_client, moto_server
from storage import dynamodb_items as items
from storage.dynamodb import DynamoDBStore
from storage.model import PRIORITIES, BugRecord
from storage.values import UpsertOutcome
from tests.support.builders import shortcut_record, slack_record, zendesk_record

CHUNK = 1_000  # records per upsert_many call, like one sync page
DAYS = 7  # created times are spread over this many days
LINKED = 5  # Slack reports linked into one Zendesk ticket, so `show SL-...` follows an alias
PRIORITY_CYCLE = (*PRIORITIES, None)
ZENDESK_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
SHORTCUT_STATES = (("Ready", "unstarted"), ("In Progress", "started"), ("Done", "done"))
WRITES = ("BatchWriteItem", "PutItem", "TransactWriteItems", "UpdateItem", "DeleteItem")


@dataclass
class Measured:
    seconds: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)

    def writes(self) -> int:
        return sum(self.calls.get(operation, 0) for operation in WRITES)


@contextmanager
def measure(counter: CallCounter) -> Iterator[Measured]:
    before, result = Counter(counter.calls), Measured()
    started = time.perf_counter()
    yield result
    result.seconds = time.perf_counter() - started
    result.calls = dict(sorted((counter.calls - before).items()))


def mixed_record(i: int, count: int) -> BugRecord:
    """Record i of count: sources in turn, priorities / states spread, created over DAYS days."""
    n = 1 + i * max(1, DAYS * 86_400 // count)
    priority = PRIORITY_CYCLE[(i // 3) % len(PRIORITY_CYCLE)]
    if i % 3 == 0:
        return slack_record(n, text=f"bench bug {i}", priority=priority)
    if i % 3 == 1:
        return zendesk_record(
            n, status=ZENDESK_STATUSES[(i // 15) % len(ZENDESK_STATUSES)], priority=priority
        )
    state, state_type = SHORTCUT_STATES[(i // 15) % len(SHORTCUT_STATES)]
    return shortcut_record(n, state=state, state_type=state_type, priority=priority)


def mixed_records(count: int) -> list[BugRecord]:
    return [mixed_record(i, count) for i in range(count)]


def new_store(client: Any, name: str) -> DynamoDBStore:
    store = DynamoDBStore(client, name)
    store.init()
    return store


def upsert_in_chunks(store: DynamoDBStore, records: list[BugRecord]) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for start in range(0, len(records), CHUNK):
        outcomes.update(result.outcome.value for result in store.upsert_many(records[start : start + CHUNK]))
    return outcomes


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def expect(condition: bool, what: str) -> None:
    """The figures only mean something if the store did the right thing; stop loudly when it did not."""
    if not condition:
        raise RuntimeError(f"benchmark check failed: {what}")


def bulk_vs_naive(client: Any, counter: CallCounter, count: int, prefix: str) -> dict[str, Measured]:
    """Parts 1 and 3: bulk upsert vs single put_item calls, then the same records again (unchanged)."""
    records = mixed_records(count)
    store = new_store(client, f"{prefix}-bulk")
    say(f"bulk: upsert_many of {count:,} new records ...")
    with measure(counter) as bulk:
        outcomes = upsert_in_chunks(store, records)
    expect(outcomes == {"inserted": count}, f"bulk upsert outcomes {dict(outcomes)}")
    naive_table = new_store(client, f"{prefix}-naive").table
    say(f"naive: {count:,} put_item calls ...")
    with measure(counter) as naive:
        for record in records:  # the same items the store writes, serialized the same way
            item = items.serialize(items.record_item(record, record.home_id))
            client.put_item(TableName=naive_table, Item=item)
    say(f"unchanged: upsert_many of the same {count:,} records again ...")
    with measure(counter) as again:
        outcomes = upsert_in_chunks(store, records)
    expect(outcomes == {UpsertOutcome.UNCHANGED.value: count}, f"re-upsert outcomes {dict(outcomes)}")
    return {"bulk": bulk, "naive": naive, "unchanged": again}


@dataclass
class Latency:
    seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)  # Query calls made by each call
    other_calls: int = 0  # any API call that is not a Query, over all calls


def timed_calls(counter: CallCounter, call: Callable[[], Any], times: int) -> Latency:
    latency = Latency()
    for _ in range(times):
        with measure(counter) as one:
            call()
        latency.seconds.append(one.seconds)
        latency.queries.append(one.calls.get("Query", 0))
        latency.other_calls += sum(n for operation, n in one.calls.items() if operation != "Query")
    return latency


def read_latency(
    client: Any, counter: CallCounter, count: int, show_calls: int, list_calls: int, prefix: str
) -> tuple[Measured, dict[str, Latency]]:
    """Part 2: load count records, link a few Slack reports into a ticket, time show / list / counts."""
    records = mixed_records(count)
    store = new_store(client, f"{prefix}-reads")
    say(f"reads: loading {count:,} records with upsert_many ...")
    slack = [record for record in records if record.source_system == "slack"][:LINKED]
    target = next(record for record in records if record.source_system == "zendesk")
    # The links go first, into a nearly empty table: moto 5 deep-copies the whole table for every action
    # of a transaction, which at 100,000 items costs minutes and gigabytes per link (DynamoDB does not).
    first = {record.source_record for record in [*slack, target]}
    store.upsert_many([*slack, target])
    for report in slack:
        store.link(report.home_id, target.home_id, actor="bench")
    with measure(counter) as load:
        outcomes = upsert_in_chunks(store, [r for r in records if r.source_record not in first])
    expect(outcomes == {"inserted": count - len(first)}, f"load outcomes {dict(outcomes)}")
    linked_id = slack[-1].home_id
    unlinked = next(r for r in records[len(records) // 2 :] if r.source_system == "zendesk")
    view = store.show(linked_id)
    expect(view.ticket_id == target.home_id and len(view.records) == len(slack) + 1, f"show {linked_id}")
    view = store.show(unlinked.home_id)
    expect(not view.was_linked and len(view.records) == 1, f"show {unlinked.home_id}")
    say(f"reads: show x{show_calls} (unlinked, linked), list x{list_calls} (3 filters), counts ...")
    results = {
        f"show {unlinked.home_id} (unlinked)": timed_calls(
            counter, lambda: store.show(unlinked.home_id), show_calls
        ),
        f"show {linked_id} (linked)": timed_calls(counter, lambda: store.show(linked_id), show_calls),
    }
    for name, value in (("priority", "High"), ("state", "open"), ("source", "zendesk")):
        matching = sum(1 for r in records if getattr(r, _FIELD[name]) == value and not r.deleted)
        page = store.list_records(**{name: value}, limit=50)
        expect(len(page.records) == min(50, matching), f"list {name}={value}: {len(page.records)} rows")

        def first_page(name: str = name, value: str = value) -> Any:
            return store.list_records(**{name: value}, limit=50)

        results[f"list {name}={value} (page of 50)"] = timed_calls(counter, first_page, list_calls)
    counted: list[int] = []
    results["counts()"] = timed_calls(counter, lambda: counted.append(store.counts().total), 1)
    expect(counted == [count], f"counts().total {counted} != {count}")
    return load, results


_FIELD = {"priority": "priority", "state": "state", "source": "source_system"}


def _calls(measured: Measured) -> str:
    return " ".join(f"{operation}={n:,}" for operation, n in measured.calls.items()) or "none"


def report(count: int, items_count: int, bulk: dict[str, Measured], load: Measured, reads: dict) -> str:
    fast, slow, again = bulk["bulk"], bulk["naive"], bulk["unchanged"]
    lines = [
        f"1. {count:,} new records            wall s   records/s   API calls",
        f"   store upsert_many ({CHUNK:,}/call) {fast.seconds:8.2f} {count / fast.seconds:11,.0f}"
        f"   {_calls(fast)}",
        f"   naive put_item loop         {slow.seconds:8.2f} {count / slow.seconds:11,.0f}   {_calls(slow)}",
        f"   bulk is {slow.seconds / fast.seconds:.1f}x faster (target >= 5x);"
        f" {sum(slow.calls.values()) / max(1, sum(fast.calls.values())):.1f}x fewer API calls",
        f"3. {count:,} unchanged records again {again.seconds:6.2f} {count / again.seconds:11,.0f}"
        f"   {_calls(again)}  -> items written: {again.writes()}",
        f"2. reads with {items_count:,} records (loaded in {load.seconds:.1f} s,"
        f" {items_count / load.seconds:,.0f} records/s: {_calls(load)})",
        f"   {'call':38} {'n':>4} {'p50 ms':>9} {'p95 ms':>9}  Query/call  other calls",
    ]
    for name, latency in reads.items():
        low, high = min(latency.queries), max(latency.queries)
        queries = str(low) if low == high else f"{low}-{high}"
        lines.append(
            f"   {name:38} {len(latency.seconds):4} {percentile(latency.seconds, 0.5) * 1000:9.1f}"
            f" {percentile(latency.seconds, 0.95) * 1000:9.1f}  {queries:>10}  {latency.other_calls:>11}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="new records for the bulk vs naive part")
    parser.add_argument("--items", type=int, default=100_000, help="records in the table for the read part")
    parser.add_argument("--show-calls", type=int, default=200, help="timed show calls per id")
    parser.add_argument("--list-calls", type=int, default=50, help="timed list calls per filter")
    args = parser.parse_args(argv)
    with moto_server() as endpoint:
        client = dynamodb_client(endpoint)
        counter = CallCounter(client)
        started = time.perf_counter()
        bulk = bulk_vs_naive(client, counter, args.records, "bench")
        load, reads = read_latency(client, counter, args.items, args.show_calls, args.list_calls, "bench")
        print(f"Store benchmark: DynamoDBStore against moto server {endpoint} (one process)")
        print(report(args.records, args.items, bulk, load, reads))
        print(f"total run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
