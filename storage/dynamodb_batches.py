"""Bulk upserts for the DynamoDB store: batch reads to compare, batch writes for new records.

An unchanged record costs a read and no write. New records whose home id has no alias go out in
BatchWriteItem calls of 25; no conditions are possible there, so afterwards one batch read of their aliases
finds any link that raced the write and moves what it left behind. Updates and aliased homes take the
single-record path with its conditions.
botocore's retry mode handles throttled calls; UnprocessedKeys / UnprocessedItems are ours to retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from storage import counters
from storage import dynamodb_items as items
from storage.errors import ConditionFailed, StoreError
from storage.model import BugRecord
from storage.schema import PARTITION_KEY, SORT_KEY
from storage.store import BugStore
from storage.values import UpsertOutcome, UpsertResult

GET_BATCH = 100
WRITE_BATCH = 25
MAX_BATCH_ROUNDS = 10


def backoff(round_number: int) -> None:
    time.sleep(min(0.05 * 2**round_number, 2.0))


class BatchMixin(BugStore):
    """Mixed into DynamoDBStore; uses its call plumbing and the port's upsert / _update_stored / _settle."""

    table: str
    call: Callable[..., dict[str, Any]]  # DynamoDBStore.call

    def batch_get(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), GET_BATCH):
            request = {
                self.table: {
                    "Keys": [items.key(p, s) for p, s in unique[start : start + GET_BATCH]],
                    "ConsistentRead": True,
                }
            }
            for round_number in range(MAX_BATCH_ROUNDS):
                answer = self.call("batch_get_item", RequestItems=request)
                for raw in answer.get("Responses", {}).get(self.table, []):
                    item = items.deserialize(raw)
                    found[(item[PARTITION_KEY], item[SORT_KEY])] = item
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                backoff(round_number)
            else:
                raise StoreError("DynamoDB kept leaving keys unprocessed in batch reads; try again later")
        return found

    def batch_put(self, new_items: list[dict[str, Any]]) -> None:
        for start in range(0, len(new_items), WRITE_BATCH):
            request = {
                self.table: [
                    {"PutRequest": {"Item": items.serialize(i)}}
                    for i in new_items[start : start + WRITE_BATCH]
                ]
            }
            for round_number in range(MAX_BATCH_ROUNDS):
                answer = self.call("batch_write_item", RequestItems=request)
                request = answer.get("UnprocessedItems") or {}
                if not request:
                    break
                backoff(round_number)
            else:
                raise StoreError("DynamoDB kept leaving items unprocessed in batch writes; try again later")

    def upsert_many(self, records: Iterable[BugRecord]) -> list[UpsertResult]:
        records = list(records)
        results: list[UpsertResult | None] = [None] * len(records)
        first_seen: dict[str, int] = {}
        repeats = []
        for position, record in enumerate(records):
            if record.source_record in first_seen:
                repeats.append(position)  # the same record twice in one batch: in order, one at a time
            else:
                first_seen[record.source_record] = position
        at_home = self.batch_get(
            [(records[p].home_id, records[p].source_record) for p in first_seen.values()]
        )
        found_home = {p: at_home[k] for p in first_seen.values() if (k := _home_key(records[p])) in at_home}
        moved = self.batch_get(
            [
                (item["movedTo"], records[p].source_record)
                for p, item in found_home.items()
                if "movedTo" in item
            ]
        )
        missing = [p for p in first_seen.values() if _home_key(records[p]) not in at_home]
        aliases = self.batch_get([(records[p].home_id, items.ALIAS) for p in missing])
        fresh = []
        for position in first_seen.values():
            record = records[position]
            if position in missing:
                if (record.home_id, items.ALIAS) in aliases:
                    results[position] = self.upsert(record)
                else:
                    fresh.append(position)
                continue
            at_home_item = found_home[position]
            location = at_home_item.get("movedTo", record.home_id)
            stored = (
                moved.get((location, record.source_record)) if "movedTo" in at_home_item else at_home_item
            )
            if stored is None:
                results[position] = self.upsert(record)  # moved while we read: the careful path
                continue
            try:
                results[position] = self._update_stored(record, items.to_record(stored))
            except ConditionFailed:
                results[position] = self.upsert(record)
        self.batch_put([items.record_item(records[p], records[p].home_id) for p in fresh])
        # BatchWriteItem takes no conditions and no counters: one aggregated counter update for the batch
        # (a process killed between the two leaves drift that the recount corrects: docs/scale.md).
        change: dict[str, int] = {}
        for position in fresh:
            counters.add(change, counters.delta(None, replace(records[position], ticket_id=None)))
        if change:
            self.adjust_counters(change)
        for position in fresh:
            results[position] = UpsertResult(UpsertOutcome.INSERTED, records[position].home_id)
        self._rehome_late_links([records[p] for p in fresh], results, fresh)
        for position in repeats:
            results[position] = self.upsert(records[position])
        return [result for result in results if result is not None]

    def _rehome_late_links(
        self, written: list[BugRecord], results: list[UpsertResult | None], positions: list[int]
    ) -> None:
        """A batch write has no condition, so a link of a new record's home id that started after our
        read and queried before our write would leave the record behind. Links write their alias before
        they read, so any such link is visible now: move what it left behind to where it belongs."""
        late = self.batch_get([(record.home_id, items.ALIAS) for record in written])
        for record, position in zip(written, positions, strict=True):
            if (record.home_id, items.ALIAS) in late:
                self._settle(record.home_id)
                results[position] = UpsertResult(UpsertOutcome.INSERTED, self.resolve(record.home_id)[-1])


def _home_key(record: BugRecord) -> tuple[str, str]:
    return (record.home_id, record.source_record)
