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


# Each index is sparse: only real records carry these attributes (stubs, aliases, audit entries, sync
# bookkeeping do not), and each sorts by createdAt so "newest first" and date ranges are key conditions.
INDEXES = (
    IndexSpec(
        "priority-index",
        "priority",
        "createdAt",
        "INCLUDE",
        tuple(a for a in SUMMARY_ATTRIBUTES if a != "priority"),
        "list --priority, optionally by date",
    ),
    IndexSpec(
        "state-index",
        "state",
        "createdAt",
        "INCLUDE",
        tuple(a for a in SUMMARY_ATTRIBUTES if a != "state"),
        "list --state, optionally by date",
    ),
    IndexSpec(
        "source-index",
        "sourceSystem",
        "createdAt",
        "INCLUDE",
        tuple(a for a in SUMMARY_ATTRIBUTES if a != "sourceSystem"),
        "list --source, unlinked Slack reports, counts, new bugs per day per source",
    ),
)

# The DynamoDB actions the store calls, as IAM names. terraform/iam.tf grants exactly these, and
# tests/unit/terraform checks both that and that storage/ calls exactly these. TransactWriteItems has no IAM
# action of its own: each Put / Update / Delete / ConditionCheck in a transaction is authorised by the
# matching per-item action. CreateTable is left out on purpose: `bugtracker init` creates the table only on a
# local endpoint; in AWS, terraform/ owns it.
REQUIRED_IAM_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)

KEY_ATTRIBUTES = {
    PARTITION_KEY: "S",
    SORT_KEY: "S",
    "priority": "S",
    "state": "S",
    "sourceSystem": "S",
    "createdAt": "S",
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
        "GlobalSecondaryIndexes": [
            {
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
            for index in INDEXES
        ],
    }
