"""The DynamoDB table, defined once. terraform/ must match it (tests/unit/terraform/ checks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_TABLE_NAME = "BugTracker"
PARTITION_KEY = "ticketId"
SORT_KEY = "sourceRecord"  # "<sourceSystem>#<recordId>", or "#..." for the table's own bookkeeping items

# What a list row shows. Every index carries exactly these, so a page of `list` / `unlinked` is rendered
# from the index alone (no read of the base table per row), while the big free-text attributes (a Slack
# message's text, Zendesk tags) are not copied three more times. KEYS_ONLY would need a GetItem per row;
# ALL would triple the storage and write cost of every record.
SUMMARY_ATTRIBUTES = (
    "sourceSystem",
    "recordId",
    "homeId",
    "title",
    "priority",
    "priorityRaw",
    "state",
    "stateType",
    "url",
    "deleted",
    "updatedAt",
)


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str
    projection: str
    non_key_attributes: tuple[str, ...]
    purpose: str


# Every index is sparse and shows exactly what its view lists, so a page is one Query whatever lies before it
# (docs/scale.md): the key attributes below are written only on live (not deleted) records, and
# `unlinkedSource` only on live Slack reports still under their own id. Stubs, aliases, audit entries,
# counters and sync bookkeeping carry none of them. Each sorts by createdAt: "newest first" and date ranges
# are key conditions. A record that is deleted upstream, or linked, leaves the index in the same write.
LIVE_PRIORITY = "livePriority"  # = priority, on live records that have one (archived stories: none)
LIVE_STATE = "liveState"  # = state, on live records that have one (archived stories too)
LIVE_SOURCE = "liveSource"  # = sourceSystem, on live records (archived stories: none)
UNLINKED_SOURCE = "unlinkedSource"  # = "slack", on live Slack reports living under their own SL- id
SPARSE_KEYS = (LIVE_PRIORITY, LIVE_STATE, LIVE_SOURCE, UNLINKED_SOURCE)

INDEXES: tuple[IndexSpec, ...] = (
    IndexSpec(
        "live-priority-index",
        LIVE_PRIORITY,
        "createdAt",
        "INCLUDE",
        SUMMARY_ATTRIBUTES,
        "list --priority, optionally by date",
    ),
    IndexSpec(
        "live-state-index",
        LIVE_STATE,
        "createdAt",
        "INCLUDE",
        SUMMARY_ATTRIBUTES,
        "list --state, optionally by date",
    ),
    IndexSpec(
        "live-source-index",
        LIVE_SOURCE,
        "createdAt",
        "INCLUDE",
        SUMMARY_ATTRIBUTES,
        "list --source, optionally by date",
    ),
    IndexSpec(
        "unlinked-index",
        UNLINKED_SOURCE,
        "createdAt",
        "INCLUDE",
        SUMMARY_ATTRIBUTES,
        "unlinked Slack reports",
    ),
)

# Impact per bug (storage/impact.py): one `#impact` item under each ticket id holding records. Open bugs carry
# openImpact = "open" and their rank, so the ranked list is one Query of this index, highest first, read from
# the index alone. A bug that is done (or left empty) drops its openImpact in the write that makes it so.
IMPACT_ITEM = "#impact"
OPEN_IMPACT = "openImpact"
IMPACT_RANK = "impactRank"
IMPACT_ATTRIBUTES = ("impactCounts", "impactRoot", "impactRevision")
INDEXES += (
    IndexSpec(
        "open-impact-index",
        OPEN_IMPACT,
        IMPACT_RANK,
        "INCLUDE",
        IMPACT_ATTRIBUTES,
        "open bugs ranked by impact",
    ),
)
INDEX_BY_KEY = {index.partition_key: index.name for index in INDEXES}

# The indexes of the first schema (filtered on `deleted` and `ticketId = homeId` at read time, so hidden
# records cost Queries). `bugtracker migrate` deletes them once the indexes above are active and filled.
LEGACY_INDEXES = ("priority-index", "state-index", "source-index")

# The table's own counters (storage/counters.py), maintained by every write: one item of totals and one
# item per UTC day of "new bugs", under their own partition.
COUNTERS_PARTITION = "#counts"
TOTALS_ITEM = "#totals"
DAY_ITEM_PREFIX = "#day#"  # + YYYY-MM-DD; attributes: one number per source

# The DynamoDB actions the store calls, as IAM names. terraform/iam.tf grants exactly these, and
# tests/unit/terraform checks both that and that storage/ calls exactly these. TransactWriteItems has no IAM
# action of its own: each Put / Update / Delete / ConditionCheck in a transaction is authorised by the
# matching per-item action. CreateTable is left out on purpose: `bugtracker init` creates the table only on a
# local endpoint; in AWS, terraform/ owns it. Scan is only used by the daily recount and `bugtracker migrate`.
REQUIRED_IAM_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
)

KEY_ATTRIBUTES = {
    PARTITION_KEY: "S",
    SORT_KEY: "S",
    LIVE_PRIORITY: "S",
    LIVE_STATE: "S",
    LIVE_SOURCE: "S",
    UNLINKED_SOURCE: "S",
    "createdAt": "S",
    OPEN_IMPACT: "S",
    IMPACT_RANK: "S",
}


def index_request(index: IndexSpec) -> dict[str, Any]:
    """One index as CreateTable / UpdateTable spell it."""
    return {
        "IndexName": index.name,
        "KeySchema": [
            {"AttributeName": index.partition_key, "KeyType": "HASH"},
            {"AttributeName": index.sort_key, "KeyType": "RANGE"},
        ],
        "Projection": {
            "ProjectionType": index.projection,
            "NonKeyAttributes": list(index.non_key_attributes),
        },
    }


def create_table_request(table_name: str) -> dict[str, Any]:
    """The CreateTable request for the schema above (used by `bugtracker init` and the tests)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in KEY_ATTRIBUTES.items()
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [index_request(index) for index in INDEXES],
    }
