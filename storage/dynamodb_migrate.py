"""`bugtracker migrate` on DynamoDB: bring a table of the first schema (three filtered indexes, no counters)
to this one (storage/schema.py). Idempotent and resumable: every step checks what is already done.

1. Indexes: each index of INDEXES that is missing is created (one UpdateTable each, waiting until it is
   ACTIVE: DynamoDB takes one index change at a time). Only on a local endpoint, like `init`: on AWS the
   table is Terraform's, and `terraform apply` makes the same change (the step then only reports).
2. Backfill: a paged Scan writes the sparse index keys (schema.SPARSE_KEYS) on every record that lacks
   them or carries stale ones, one conditional UpdateItem per record (unchanged since read, still living
   there); a record rewritten meanwhile by the current code already has them. The Scan's position is saved
   after every page (meta `migrate:backfill`), so a killed run resumes where it stopped.
3. Counters: a recount (storage/recount.py) sets them from the records.
4. The legacy indexes (schema.LEGACY_INDEXES) are deleted once every new one is ACTIVE (local endpoint).
Run it again after the old bot has stopped: records it wrote meanwhile get their keys then.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from storage import dynamodb_items as items
from storage.errors import ConditionFailed
from storage.schema import (
    INDEXES,
    KEY_ATTRIBUTES,
    LEGACY_INDEXES,
    PARTITION_KEY,
    SORT_KEY,
    SPARSE_KEYS,
    index_request,
)

if TYPE_CHECKING:
    from storage.dynamodb import DynamoDBTable

BACKFILL_META = "migrate:backfill"
BACKFILL_PAGE = 1_000  # items a Scan page reads; the position is saved after each
INDEX_POLL_SECONDS = 5.0
_READ: tuple[str, ...] = (
    PARTITION_KEY,
    SORT_KEY,
    "sourceSystem",
    "recordId",
    "createdAt",
    "updatedAt",
    "priority",
    "state",
)
_READ += ("deleted", "movedTo", "sourceVersion", *SPARSE_KEYS)

Progress = Callable[[str], None]
Advance = Callable[[int], None]  # n more items read (a progress bar)


def _indexes(store: DynamoDBTable) -> dict[str, str]:
    table = store.call("describe_table", TableName=store.table)["Table"]
    return {
        index["IndexName"]: index.get("IndexStatus", "ACTIVE")
        for index in table.get("GlobalSecondaryIndexes", [])
    }


def _wait_active(store: DynamoDBTable, name: str, progress: Progress) -> None:
    while (status := _indexes(store).get(name)) not in ("ACTIVE", None):
        progress(f"index {name}: {status}, waiting")
        time.sleep(INDEX_POLL_SECONDS)


def add_indexes(store: DynamoDBTable, progress: Progress, manage_indexes: bool) -> None:
    present = _indexes(store)
    for index in INDEXES:
        if index.name in present:
            _wait_active(store, index.name, progress)
            continue
        if not manage_indexes:
            progress(f"index {index.name} is missing: `terraform apply` creates it (then run migrate again)")
            continue
        progress(f"creating index {index.name}")
        store.call(
            "update_table",
            TableName=store.table,
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": KEY_ATTRIBUTES[name]}
                for name in (index.partition_key, index.sort_key)
            ],
            GlobalSecondaryIndexUpdates=[{"Create": index_request(index)}],
        )
        _wait_active(store, index.name, progress)


def drop_legacy_indexes(store: DynamoDBTable, progress: Progress) -> None:
    present = _indexes(store)
    if any(present.get(index.name) != "ACTIVE" for index in INDEXES):
        progress("legacy indexes kept: a new index is not ACTIVE yet")
        return
    for name in LEGACY_INDEXES:
        if name in present:
            progress(f"deleting legacy index {name}")
            store.call(
                "update_table",
                TableName=store.table,
                GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": name}}],
            )
            while name in _indexes(store):
                time.sleep(INDEX_POLL_SECONDS)


def backfill(store: DynamoDBTable, progress: Progress, advance: Advance | None = None) -> int:
    """Write the sparse keys where they are missing or stale; returns how many records were updated."""
    names = {f"#a{number}": name for number, name in enumerate(_READ)}
    request: dict[str, Any] = {
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
        "Limit": BACKFILL_PAGE,
    }
    checkpoint = store.get_meta(BACKFILL_META) or {}
    if checkpoint.get("start"):
        request["ExclusiveStartKey"] = items.serialize(checkpoint["start"])
        progress("backfill: resuming from the saved position")
    updated, seen = int(checkpoint.get("updated", 0)), int(checkpoint.get("seen", 0))
    for page, position in store.scan_pages(**request):
        for item in page:
            if not items.is_record(item):
                continue
            seen += 1
            updated += _fix(store, item)
        if advance:
            advance(len(page))
        store.put_meta(BACKFILL_META, {"start": position, "updated": updated, "seen": seen})
    store.put_meta(BACKFILL_META, {"start": None, "updated": 0, "seen": 0})  # done: a rerun starts over
    progress(f"backfill: {seen} record(s) read, {updated} updated")
    return updated


def _fix(store: DynamoDBTable, item: dict[str, Any]) -> int:
    record = items.to_record(item)
    wanted = items.sparse_keys(record, item[PARTITION_KEY])
    present = {name: item[name] for name in SPARSE_KEYS if name in item}
    if wanted == present:
        return 0
    names = {f"#k{number}": name for number, name in enumerate(SPARSE_KEYS)}
    alias = {name: key for key, name in names.items()}
    sets = [f"{alias[name]} = :{alias[name][1:]}" for name in wanted]
    removes = [alias[name] for name in SPARSE_KEYS if name not in wanted and name in present]
    expression = " ".join(
        part
        for part in (
            f"SET {', '.join(sets)}" if sets else "",
            f"REMOVE {', '.join(removes)}" if removes else "",
        )
        if part
    )
    unchanged, values = items.unchanged_since_read(item)
    values.update({f":{alias[name][1:]}": value for name, value in wanted.items()})
    used = {key: name for key, name in names.items() if key in expression}
    try:
        store.call(
            "update_item",
            TableName=store.table,
            Key=items.key(item[PARTITION_KEY], item[SORT_KEY]),
            UpdateExpression=expression,
            ConditionExpression=f"attribute_exists(ticketId) AND attribute_not_exists(movedTo)"
            f" AND {unchanged}",
            ExpressionAttributeNames=used,
            ExpressionAttributeValues=items.serialize(values),
        )
    except ConditionFailed:
        return 0  # rewritten or moved meanwhile: by this code it has its keys; a rerun catches the rest
    return 1
