"""Benchmark: what one read costs as the table grows: the first schema's reads and the current
ones, side by side in one run.

    .venv/bin/python -m bench.scale_reads dynamodb [--sizes 1000 10000 100000]
    .venv/bin/python -m bench.scale_reads sqlite [--sizes 1000 10000 100000 1000000]

DynamoDB (one moto server over HTTP, requests counted by a botocore `before-call.dynamodb` handler): each
size gets one table holding the current indexes AND the three legacy ones, so the same data answers both
read paths: BEFORE is the first schema's code, kept here as baseline functions (FilterExpression on
`deleted` and `ticketId = homeId`, `Limit` = rows still wanted; counts reading every live record's summary
from source-index; new bugs per day as a range Query per source); AFTER is the store as it is (sparse
indexes, counters kept by the writes). Every AFTER answer is checked equal to the BEFORE one.

What lies ahead of the pages, newest first: 1% of the records, deleted upstream, then 100 Slack reports
linked into a ticket (linked first, into a small table: moto deep-copies its whole table for every action
of a transaction), then the live records. Records are created over 60 days; the metrics refresh reads 30.

SQLite: the embedded store loaded with the same data up to 1M records (backfill wall time, records/s, peak
RSS after each size), then the same operations counted as SQL statements and SQLite VM instructions
(a progress handler every 1,000): flat figures mean the work does not grow with N. moto is not DynamoDB
(its Query sorts the whole table), so its milliseconds are not DynamoDB's; request counts carry over.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._support import CallCounter, dynamodb_client, moto_server
from bot.metrics.bug_counts import BugCountsCollector
from storage import dynamodb_items as items
from storage.dynamodb import DynamoDBStore
from storage.model import PRIORITIES, SOURCES, BugRecord, range_bounds, timestamp_from_epoch
from storage.paging import encode_cursor
from storage.schema import (
    LEGACY_INDEXES,
    SUMMARY_ATTRIBUTES,
    IndexSpec,
    create_table_request,
    index_request,
)
from storage.sqlite import SqliteStore
from storage.store import BugStore
from storage.values import Counts, Page
from tests.support.builders import BASE_EPOCH, shortcut_record, slack_record, zendesk_record

CHUNK = 1_000  # records per upsert_many, as one sync page
LINKED = 100  # newest Slack reports, linked into one ticket
DELETED_SHARE = 100  # 1 in 100 records (the newest) deleted upstream
DAYS = 60
WINDOW_DAYS = 30
LIST_LIMIT = 50
UNLINKED_LIMIT = 10
PRIORITY_CYCLE = (*PRIORITIES, None)
ZENDESK_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
SHORTCUT_STATES = (
    ("Backlog", "backlog"),
    ("Ready", "unstarted"),
    ("In Progress", "started"),
    ("Done", "done"),
)

# The first schema's indexes, as it created them (for the BEFORE path).
LEGACY = tuple(
    IndexSpec(name, key, "createdAt", "INCLUDE", tuple(a for a in SUMMARY_ATTRIBUTES if a != key), "legacy")
    for name, key in zip(LEGACY_INDEXES, ("priority", "state", "sourceSystem"), strict=True)
)


# -- the data -----------------------------------------------------------------------------------------------
def slack(n: int, **fields: Any) -> BugRecord:
    """A Slack report posted BASE_EPOCH + n (the builder's ts form holds n < 1,000,000 only)."""
    at = timestamp_from_epoch(BASE_EPOCH + n)
    record = slack_record(1, **fields)
    return replace(record, record_id=f"{BASE_EPOCH + n}.{n % 1_000_000:06d}", created_at=at, updated_at=at)


def spacing(count: int) -> int:
    return max(1, DAYS * 86_400 // count)


def deleted_from(count: int) -> int:
    """Base records from this index on are the newest 1%, deleted upstream."""
    total = count - LINKED
    return total - total // DELETED_SHARE


def at(i: int, count: int) -> int:
    """Seconds after BASE_EPOCH record i was created: the LINKED reports sit between the live base records
    and the deleted ones, so newest first a page meets the deleted records, then the linked reports."""
    return 1 + (i + (LINKED if i >= deleted_from(count) else 0)) * spacing(count)


def base_record(i: int, count: int) -> BugRecord:
    """Base record i: sources in turn, priorities and states spread; the newest 1% deleted upstream."""
    n = at(i, count)
    priority = PRIORITY_CYCLE[(i // 3) % len(PRIORITY_CYCLE)]
    deleted = i >= deleted_from(count)
    if i % 3 == 0:
        record = slack(n, text=f"bench bug {i}", priority=priority)
        return replace(record, deleted=True) if deleted else record
    if i % 3 == 1:
        status = "deleted" if deleted else ZENDESK_STATUSES[(i // 15) % len(ZENDESK_STATUSES)]
        return zendesk_record(n, status=status, priority=priority)
    state, state_type = SHORTCUT_STATES[(i // 15) % len(SHORTCUT_STATES)]
    return replace(shortcut_record(n, state=state, state_type=state_type, priority=priority), deleted=deleted)


def linked_reports(count: int) -> list[BugRecord]:
    """The LINKED Slack reports linked into the target, created just before the deleted records."""
    first = at(deleted_from(count) - 1, count)
    return [
        slack(first + (k + 1) * spacing(count), text=f"linked report {k}", priority="Low")
        for k in range(LINKED)
    ]


def target_record(count: int) -> BugRecord:
    return base_record(1, count)  # a Zendesk ticket, the oldest one


def base_chunks(count: int) -> Iterator[list[BugRecord]]:
    """The base records in chunks, made as they are loaded (a 1M run never holds them all)."""
    total = count - LINKED
    for start in range(2, total, CHUNK):  # 1 is the target (loaded first), 0 is left out
        yield [base_record(i, count) for i in range(start, min(total, start + CHUNK))]


def load(store: BugStore, count: int) -> float:
    """Target + linked reports, the links, then the base records in chunks; returns the seconds taken."""
    started = time.perf_counter()
    target = target_record(count)
    reports = linked_reports(count)
    store.upsert_many([target, *reports])
    for report in reports:
        store.link(report.home_id, target.home_id, actor="bench")
    for chunk in base_chunks(count):
        store.upsert_many(chunk)
    return time.perf_counter() - started


def window(count: int) -> tuple[str, str]:
    last = datetime.fromtimestamp(BASE_EPOCH + (count + 1) * spacing(count), UTC).date()
    first = datetime.fromtimestamp(
        BASE_EPOCH + (count + 1) * spacing(count) - (WINDOW_DAYS - 1) * 86_400, UTC
    )
    return first.date().isoformat(), last.isoformat()


# -- BEFORE: the first schema's read path, kept as baseline functions ------------------------------------
def before_page(store: DynamoDBStore, index: str, key: str, value: str, limit: int, unlinked: bool) -> Page:
    """The old index_page: FilterExpression on deleted (and ticketId = homeId), Limit = rows still wanted."""
    low, high = range_bounds(None, None)
    names = {"#k": key, "#deleted": "deleted"}
    conditions = ["#deleted = :no"]
    if unlinked:
        names["#home"] = "homeId"
        conditions.append("ticketId = #home")
    request: dict[str, Any] = {
        "TableName": store.table,
        "IndexName": index,
        "KeyConditionExpression": "#k = :k AND createdAt BETWEEN :low AND :high",
        "FilterExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": items.serialize({":k": value, ":low": low, ":high": high, ":no": False}),
        "ScanIndexForward": False,
    }
    found: list[BugRecord] = []
    start = None
    while len(found) < limit:
        request["Limit"] = limit - len(found)
        if start:
            request["ExclusiveStartKey"] = start
        answer = store.client.query(**request)
        found += [items.to_record(items.deserialize(item)) for item in answer.get("Items", [])]
        start = answer.get("LastEvaluatedKey")
        if start is None:
            break
    return Page(tuple(found), encode_cursor(items.deserialize(start)) if start else None)


def _source_rows(store: DynamoDBStore, source: str, low: str, high: str, wanted: tuple[str, ...]) -> Iterator:
    names = {f"#a{number}": name for number, name in enumerate(wanted)}
    request: dict[str, Any] = {
        "TableName": store.table,
        "IndexName": "source-index",
        "KeyConditionExpression": "sourceSystem = :s AND createdAt BETWEEN :low AND :high",
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": items.serialize({":s": source, ":low": low, ":high": high}),
    }
    while True:
        answer = store.client.query(**request)
        yield from (items.deserialize(item) for item in answer.get("Items", []))
        if "LastEvaluatedKey" not in answer:
            return
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def before_counts(store: DynamoDBStore) -> Counts:
    counts = Counts()
    wanted = ("ticketId", "sourceRecord", "sourceSystem", "recordId", "createdAt", "updatedAt", "priority")
    wanted += ("state", "stateType", "deleted")
    for source in SOURCES:
        for row in _source_rows(store, source, "0000", "9999", wanted):
            counts.add(items.to_record(row))
    return counts


def before_new_per_day(store: DynamoDBStore, since: str, until: str) -> dict[str, dict[str, int]]:
    low, high = range_bounds(since, until)
    result: dict[str, dict[str, int]] = {}
    for source in SOURCES:
        for row in _source_rows(store, source, low, high, ("createdAt", "deleted")):
            if not row.get("deleted"):
                days = result.setdefault(source, {})
                days[row["createdAt"][:10]] = days.get(row["createdAt"][:10], 0) + 1
    return {source: dict(sorted(days.items())) for source, days in result.items()}


# -- counting ---------------------------------------------------------------------------------------------
@dataclass
class Cost:
    requests: dict[str, int]
    seconds: float

    def text(self) -> str:
        total = sum(self.requests.values())
        detail = "+".join(f"{n} {op}" for op, n in sorted(self.requests.items()))
        return f"{total} ({detail or '-'}) {self.seconds * 1000:,.0f} ms"


def measured(counter: Counter[str], call: Callable[[], Any]) -> tuple[Any, Cost]:
    before = Counter(counter)
    started = time.perf_counter()
    answer = call()
    return answer, Cost(dict(counter - before), time.perf_counter() - started)


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise RuntimeError(f"benchmark check failed: {what}")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- DynamoDB on moto ------------------------------------------------------------------------------------
def new_table(client: Any, name: str) -> DynamoDBStore:
    request = create_table_request(name)
    request["AttributeDefinitions"] += [
        {"AttributeName": key, "AttributeType": "S"} for key in ("priority", "state", "sourceSystem")
    ]
    request["GlobalSecondaryIndexes"] += [index_request(index) for index in LEGACY]
    client.create_table(**request)
    return DynamoDBStore(client, name)


def dynamodb_operations(store: DynamoDBStore, count: int) -> dict[str, tuple[Callable, Callable]]:
    """name -> (before, after) callables returning comparable answers."""
    show_id = base_record(
        count // 2 - (count // 2) % 3 + 1, count
    ).home_id  # a live Zendesk ticket, mid-table
    linked_id = linked_reports(count)[-1].home_id
    first, last = window(count)
    collector = BugCountsCollector(
        store, new_bugs_days=WINDOW_DAYS, today=lambda: datetime.fromisoformat(last).date()
    )

    def refresh_before() -> Any:
        return before_counts(store), before_new_per_day(store, first, last)

    def refresh_after() -> Any:
        snapshot = collector.refresh()
        per_day = {
            source: {day: n for day, n in days.items() if n} for source, days in snapshot.new_per_day.items()
        }
        return snapshot.counts, {source: days for source, days in per_day.items() if days}

    def rows(page: Page) -> list[str]:
        return [record.source_record for record in page.records]

    return {
        f"show {show_id}": (lambda: store.show(show_id).records, lambda: store.show(show_id).records),
        f"show {linked_id[:14]}… (linked)": (
            lambda: store.show(linked_id).records,
            lambda: store.show(linked_id).records,
        ),
        f"list --source slack ({LIST_LIMIT})": (
            lambda: rows(before_page(store, "source-index", "sourceSystem", "slack", LIST_LIMIT, False)),
            lambda: rows(store.list_records(source="slack", limit=LIST_LIMIT)),
        ),
        f"list --priority High ({LIST_LIMIT})": (
            lambda: rows(before_page(store, "priority-index", "priority", "High", LIST_LIMIT, False)),
            lambda: rows(store.list_records(priority="High", limit=LIST_LIMIT)),
        ),
        f"unlinked ({UNLINKED_LIMIT})": (
            lambda: rows(before_page(store, "source-index", "sourceSystem", "slack", UNLINKED_LIMIT, True)),
            lambda: rows(store.unlinked_slack(limit=UNLINKED_LIMIT)),
        ),
        "stats (counts)": (lambda: before_counts(store), store.counts),
        f"metrics refresh (+{WINDOW_DAYS} days)": (refresh_before, refresh_after),
    }


def run_dynamodb(sizes: list[int]) -> None:
    with moto_server() as endpoint:
        client = dynamodb_client(endpoint)
        counter = CallCounter(client)
        table: dict[str, dict[int, tuple[Cost, Cost]]] = {}
        for count in sizes:
            store = new_table(client, f"scale-{count}")
            say(f"N={count:,}: loading ...")
            seconds = load(store, count)
            say(f"N={count:,}: loaded in {seconds:.0f} s; measuring ...")
            for name, (before, after) in dynamodb_operations(store, count).items():
                old, old_cost = measured(counter.calls, before)
                new, new_cost = measured(counter.calls, after)
                expect(old == new, f"{name} at N={count}: after differs from before")
                table.setdefault(name, {})[count] = (old_cost, new_cost)
                say(f"  {name}: before {old_cost.text()} | after {new_cost.text()}")
            client.delete_table(TableName=store.table)
        print(f"DynamoDB (moto server {endpoint}): requests per operation, BEFORE | AFTER")
        for name, by_size in table.items():
            print(f"  {name}")
            for count, (old, new) in by_size.items():
                print(f"    N={count:>9,}: before {old.text():45} | after {new.text()}")


# -- SQLite ----------------------------------------------------------------------------------------------
class SqlWork:
    """SQL statements run and SQLite VM instructions (thousands) spent, on one connection."""

    def __init__(self, connection: Any) -> None:
        self.statements = 0
        self.kilo_steps = 0
        connection.set_trace_callback(self._statement)
        connection.set_progress_handler(self._step, 1_000)

    def _statement(self, _sql: str) -> None:
        self.statements += 1

    def _step(self) -> int:
        self.kilo_steps += 1
        return 0

    def measure(self, call: Callable[[], Any]) -> tuple[Any, str]:
        statements, steps = self.statements, self.kilo_steps
        started = time.perf_counter()
        answer = call()
        seconds = time.perf_counter() - started
        used = self.statements - statements, self.kilo_steps - steps
        return answer, f"{used[0]:3} stmts {used[1]:8,}k VM steps {seconds * 1000:9.2f} ms"


def before_counts_sqlite(store: SqliteStore) -> Counts:
    """The first version's counts(): read every row's summary."""
    counts = Counts()
    for row in store.port._read(  # noqa: SLF001 - the baseline reads as the old code did
        "SELECT source_system, record_id, created_at, updated_at, priority, state, state_type, deleted,"
        " ticket_id FROM records"
    ):
        counts.add(store.port._record(row))  # noqa: SLF001
    return counts


def reset_peak_rss() -> bool:
    """Linux: start the peak-RSS count again (VmHWM), so each size's load is measured on its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    """The peak RSS since reset_peak_rss (else of the whole process)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sqlite_operations(store: SqliteStore, count: int, collector: BugCountsCollector) -> dict[str, Callable]:
    show_id = base_record(count // 2 - (count // 2) % 3 + 1, count).home_id
    linked_id = linked_reports(count)[-1].home_id
    return {
        "show (unlinked ticket)": lambda: store.show(show_id),
        "show (linked report)": lambda: store.show(linked_id),
        f"list --source slack ({LIST_LIMIT})": lambda: store.list_records(source="slack", limit=LIST_LIMIT),
        f"list --priority High ({LIST_LIMIT})": lambda: store.list_records(priority="High", limit=LIST_LIMIT),
        f"unlinked ({UNLINKED_LIMIT})": lambda: store.unlinked_slack(limit=UNLINKED_LIMIT),
        "stats (counts)": store.counts,
        f"metrics refresh (+{WINDOW_DAYS} days)": collector.refresh,
        "BEFORE: stats reading every row": lambda: before_counts_sqlite(store),
    }


def run_sqlite(sizes: list[int]) -> None:
    print("SQLite (embedded): backfill and work per operation (statements, VM instructions, time)")
    for count in sizes:
        with tempfile.TemporaryDirectory() as folder:
            store = SqliteStore(Path(folder) / "scale.db")
            store.init()
            scope = "during the backfill" if reset_peak_rss() else "of the process so far"
            seconds = load(store, count)
            print(
                f"  N={count:>9,}: backfill {seconds:8.1f} s ({count / seconds:,.0f} records/s),"
                f" peak RSS {scope} {peak_rss_mb():,.0f} MB"
            )
            work = SqlWork(store.port._conn())  # noqa: SLF001
            first, last = window(count)
            collector = BugCountsCollector(
                store, new_bugs_days=WINDOW_DAYS, today=lambda last=last: datetime.fromisoformat(last).date()
            )
            operations = sqlite_operations(store, count, collector)
            answers = {}
            for name, call in operations.items():
                answers[name], text = work.measure(call)
                print(f"    {name:34} {text}")
            expect(answers["stats (counts)"] == answers["BEFORE: stats reading every row"], "counts differ")
            store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", choices=("dynamodb", "sqlite"))
    parser.add_argument("--sizes", type=int, nargs="+")
    args = parser.parse_args(argv)
    if args.store == "dynamodb":
        run_dynamodb(args.sizes or [1_000, 10_000, 100_000])
    else:
        run_sqlite(args.sizes or [1_000, 10_000, 100_000, 1_000_000])


if __name__ == "__main__":
    main()
