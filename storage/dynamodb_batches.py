"""Batch reads and writes for the DynamoDB table: what the port's `read_aliases`, `read_records` and
`put_new_records` (storage/port.py) are made of, so that a sync batch of upserts (storage/upserts.py)
costs a few batch calls.

New records whose home id has no alias go out in BatchWriteItem calls of 25; no conditions are possible
there, so afterwards the upserts read their aliases again, find any link that raced the write and move what
it left behind.
botocore's retry mode handles throttled calls; UnprocessedKeys / UnprocessedItems are ours to retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from storage import counters
from storage import dynamodb_items as items
from storage.errors import StoreError
from storage.impact import Impact
from storage.model import BugRecord
from storage.port import StorePort
from storage.schema import PARTITION_KEY, SORT_KEY

GET_BATCH = 100
WRITE_BATCH = 25
MAX_BATCH_ROUNDS = 10


def backoff(round_number: int) -> None:
    time.sleep(min(0.05 * 2**round_number, 2.0))


class BatchMixin(StorePort):
    """Mixed into DynamoDBTable; uses its call plumbing."""

    table: str
    call: Callable[..., dict[str, Any]]  # DynamoDBTable.call

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

    def read_records(self, records: Sequence[BugRecord]) -> dict[str, BugRecord | None]:
        """Two batch reads whatever the number of records: their homes, then where the stubs found there
        point. A record whose stub points where it no longer is (it moved while read) is left out."""
        unique = list({record.source_record: record for record in records}.values())
        at_home = self.batch_get([_home_key(record) for record in unique])
        moved = self.batch_get(
            [
                (item["movedTo"], record.source_record)
                for record in unique
                if (item := at_home.get(_home_key(record))) is not None and "movedTo" in item
            ]
        )
        found: dict[str, BugRecord | None] = {}
        for record in unique:
            item = at_home.get(_home_key(record))
            if item is not None and "movedTo" in item:
                item = moved.get((item["movedTo"], record.source_record))
                if item is None:
                    continue
            found[record.source_record] = items.to_record(item) if item is not None else None
        return found

    def put_new_records(self, records: Sequence[BugRecord]) -> None:
        """BatchWriteItem calls of 25, which take no conditions and no counters: then one aggregated counter
        update for the batch (a process killed between the two leaves drift that the recount corrects:
        docs/scale.md)."""
        self.batch_put([items.record_item(record, record.home_id) for record in records])
        change: dict[str, int] = {}
        for record in records:
            counters.add(change, counters.delta(None, replace(record, ticket_id=None)))
        if change:
            self.adjust_counters(change)

    def put_new_impacts(self, tallies: Sequence[Impact]) -> None:
        """BatchWriteItem calls of 25, as for the records they count (no conditions possible)."""
        self.batch_put([items.impact_item(tally) for tally in tallies])


def _home_key(record: BugRecord) -> tuple[str, str]:
    return (record.home_id, record.source_record)
