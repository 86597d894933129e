"""Items of the DynamoDB table: records <-> items, the table's own bookkeeping items, error mapping.

Besides one item per source record, a partition can hold:
- `#alias`               the ticket id was linked: {targetId, destination, state: moving|linked|unlinking,
                         actor, at}
- `#incoming#<source>`   a link into this ticket is still moving records from <source>
- `#audit#<at>#<uuid>`   one link/unlink event (kept under both ids the event touched)
- a stub                 {movedTo}: the record whose home is this id lives under movedTo now
Stubs and bookkeeping items carry none of the index keys, so the indexes only ever see real records.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from storage.errors import ConditionFailed, StoreError, StoreUnavailable
from storage.impact import Impact, Root
from storage.model import ARCHIVED_STATE, BugRecord
from storage.primitives import Alias
from storage.schema import (
    IMPACT_ITEM,
    IMPACT_RANK,
    LIVE_PRIORITY,
    LIVE_SOURCE,
    LIVE_STATE,
    OPEN_IMPACT,
    PARTITION_KEY,
    SORT_KEY,
    SPARSE_KEYS,
    UNLINKED_SOURCE,
)
from storage.values import AuditEntry

ALIAS = "#alias"
INCOMING = "#incoming#"
AUDIT = "#audit#"
META_PARTITION = "#meta"
GRAPH_VERSION = "#graph-version"  # under META_PARTITION: {version}, bumped by every change of the aliases
LEASE_PARTITION = "#lease"
LIST_PARTITION = "#list#"  # + the list's name: one item per member, sorted by "<at>#<member>"

_CORE = {
    PARTITION_KEY: "ticket_id",
    "sourceSystem": "source_system",
    "recordId": "record_id",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "title": "title",
    "priority": "priority",
    "priorityRaw": "priority_raw",
    "state": "state",
    "stateType": "state_type",
    "url": "url",
    "deleted": "deleted",
    "sourceVersion": "source_version",
}
_DERIVED = {SORT_KEY, "homeId", *SPARSE_KEYS}

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

UNAVAILABLE_CODES = {
    "ResourceNotFoundException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "AccessDeniedException",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
}


def serialize(values: dict[str, Any]) -> dict[str, Any]:
    # TypeSerializer refuses floats; a JSON round trip turns them into Decimals (and tuples into lists).
    plain = json.loads(json.dumps(values), parse_float=Decimal)
    return {name: _serializer.serialize(value) for name, value in plain.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, set):
        return sorted(_plain(item) for item in value)
    return value


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def key(partition: str, sort: str) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": partition}, SORT_KEY: {"S": sort}}


def record_item(record: BugRecord, ticket_id: str) -> dict[str, Any]:
    """The plain (not yet serialized) item for a record living under ticket_id. None values are left out:
    DynamoDB forbids empty index keys, and a record without a priority simply is not in priority-index."""
    clash = set(record.attributes) & (set(_CORE) | _DERIVED | {"movedTo"})
    if clash:
        raise ValueError(f"source attributes may not use the table's own names: {sorted(clash)}")
    item: dict[str, Any] = {name: value for name, value in record.attributes.items() if value is not None}
    for attribute, field_name in _CORE.items():
        value = ticket_id if field_name == "ticket_id" else getattr(record, field_name)
        if value is not None and value != "":
            item[attribute] = value
    item[SORT_KEY] = record.source_record
    item["homeId"] = record.home_id
    item["deleted"] = record.deleted
    item.update(sparse_keys(record, ticket_id))
    return item


def sparse_keys(record: BugRecord, ticket_id: str) -> dict[str, str]:
    """The index keys a record carries where it lives (storage/schema.py): only what its views list."""
    if record.deleted:
        return {}
    keys: dict[str, str] = {}
    if record.state:
        keys[LIVE_STATE] = record.state
    if record.state == ARCHIVED_STATE:  # an archived story is listed only when asked for by its state
        return keys
    keys[LIVE_SOURCE] = record.source_system
    if record.priority:
        keys[LIVE_PRIORITY] = record.priority
    if record.source_system == "slack" and ticket_id == record.home_id:
        keys[UNLINKED_SOURCE] = record.source_system
    return keys


def unchanged_since_read(stored: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The condition (and its values) that a record item is still the copy we read: its updatedAt and
    its sourceVersion (a Zendesk system update moves only the version)."""
    values: dict[str, Any] = {":seen": stored["updatedAt"]}
    if "sourceVersion" in stored:
        values[":version"] = stored["sourceVersion"]
        return "updatedAt = :seen AND sourceVersion = :version", values
    return "updatedAt = :seen AND attribute_not_exists(sourceVersion)", values


def is_record(item: dict[str, Any]) -> bool:
    """A record item: not a stub, nor the table's own items (#alias, #audit, #meta, #lease, #counts)."""
    return (
        not item[SORT_KEY].startswith("#")
        and not item[PARTITION_KEY].startswith("#")
        and "movedTo" not in item
    )


def to_record(item: dict[str, Any]) -> BugRecord:
    fields: dict[str, Any] = {field_name: item.get(attribute) for attribute, field_name in _CORE.items()}
    fields["title"] = fields["title"] or ""
    fields["deleted"] = bool(fields["deleted"])
    attributes = {name: value for name, value in item.items() if name not in _CORE and name not in _DERIVED}
    return BugRecord(**fields, attributes=attributes)


def to_audit(item: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        action=item["action"],
        from_id=item["fromId"],
        to_id=item["toId"],
        actor=item["actor"],
        at=item["at"],
        moved=int(item["moved"]),
    )


def to_alias(item: dict[str, Any]) -> Alias:
    return Alias(
        source_id=item[PARTITION_KEY],
        target_id=item["targetId"],
        state=item["state"],
        actor=item.get("actor", ""),
        at=item.get("at", ""),
        destination=item.get("destination", item["targetId"]),
    )


def alias_item(alias: Alias) -> dict[str, Any]:
    return {
        PARTITION_KEY: alias.source_id,
        SORT_KEY: ALIAS,
        "targetId": alias.target_id,
        "destination": alias.destination,
        "state": alias.state,
        "actor": alias.actor,
        "at": alias.at,
    }


def audit_item(ticket_id: str, entry: AuditEntry, event_id: str) -> dict[str, Any]:
    return {
        PARTITION_KEY: ticket_id,
        SORT_KEY: f"{AUDIT}{event_id}",
        "action": entry.action,
        "fromId": entry.from_id,
        "toId": entry.to_id,
        "actor": entry.actor,
        "at": entry.at,
        "moved": entry.moved,
    }


OPEN = "open"  # the openImpact of every open bug's #impact item: one partition of the ranked index


def impact_item(impact: Impact) -> dict[str, Any]:
    """A bug's #impact item; an open one carries the ranked index's keys (storage/schema.py)."""
    item: dict[str, Any] = {
        PARTITION_KEY: impact.ticket_id,
        SORT_KEY: IMPACT_ITEM,
        "impactCounts": impact.counts,
        "impactRevision": impact.revision,
    }
    if impact.root is not None:
        item["impactRoot"] = impact.root.as_dict()
    rank = impact.rank
    if rank is not None:
        item[OPEN_IMPACT] = OPEN
        item[IMPACT_RANK] = rank
    return item


def to_impact(item: dict[str, Any]) -> Impact:
    counts = {str(name): int(number) for name, number in (item.get("impactCounts") or {}).items()}
    return Impact(
        item[PARTITION_KEY], counts, Root.from_dict(item.get("impactRoot")), int(item["impactRevision"])
    )


def map_client_error(operation: str, exc: ClientError, table_name: str) -> Exception:
    """Turn botocore's errors into the store's own; conditional failures into ConditionFailed."""
    code = exc.response.get("Error", {}).get("Code", "")
    if code == "ConditionalCheckFailedException":
        return ConditionFailed(operation, _found([exc.response.get("Item")]))
    if code == "TransactionCanceledException":
        cancelled = exc.response.get("CancellationReasons", []) or []
        reasons = {reason.get("Code") for reason in cancelled}
        if reasons & {"ConditionalCheckFailed", "TransactionConflict"} or not reasons:
            return ConditionFailed(operation, _found([reason.get("Item") for reason in cancelled]))
        return StoreError(
            f"DynamoDB cancelled the {operation} transaction ({', '.join(sorted(map(str, reasons)))})"
        )
    if code == "ResourceNotFoundException":
        return StoreUnavailable(
            f"DynamoDB table '{table_name}' does not exist: run `bugtracker init` (local endpoint)"
            " or `terraform apply` (AWS)"
        )
    if code in UNAVAILABLE_CODES:
        return StoreUnavailable(f"DynamoDB refused our credentials ({code}) for table '{table_name}'")
    if "Throttl" in code or code in ("ProvisionedThroughputExceededException", "RequestLimitExceeded"):
        return StoreError(
            f"DynamoDB is throttling {operation} on '{table_name}' even after retries; try again later"
        )
    return StoreError(f"DynamoDB {operation} on '{table_name}' failed: {code or 'unknown error'}")


def _found(raw_items: list[Any]) -> tuple[BugRecord, ...]:
    """The records a refused write returned (ReturnValuesOnConditionCheckFailure=ALL_OLD): an insert that
    met the record already stored there."""
    found = [deserialize(raw) for raw in raw_items if raw]
    return tuple(to_record(item) for item in found if is_record(item))


def map_botocore_error(exc: BotoCoreError) -> Exception:
    if isinstance(exc, NoCredentialsError):
        return StoreUnavailable(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a profile"
        )
    if isinstance(exc, NoRegionError):
        return StoreUnavailable("no AWS region set: set AWS_REGION (or AWS_DEFAULT_REGION)")
    return StoreUnavailable(f"cannot reach DynamoDB: {type(exc).__name__}: {exc}")
