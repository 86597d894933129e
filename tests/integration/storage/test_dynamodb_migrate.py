"""`bugtracker migrate` on a table of the first schema (three filtered indexes, records without the sparse
keys, no counters): indexes replaced, keys backfilled, counters set; a killed run resumes; a rerun changes
nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from storage import counters, dynamodb_migrate
from storage import dynamodb_items as items
from storage.dynamodb import DynamoDBStore
from storage.schema import INDEXES, LEGACY_INDEXES, SPARSE_KEYS, SUMMARY_ATTRIBUTES, create_table_request
from tests.support.builders import shortcut_record, slack_record, zendesk_record

TABLE = "OldBugTracker"


def legacy_table_request() -> dict:
    """The first schema's CreateTable request: the three indexes keyed on priority / state / sourceSystem."""
    request = create_table_request(TABLE)
    request["AttributeDefinitions"] = [
        {"AttributeName": name, "AttributeType": "S"}
        for name in ("ticketId", "sourceRecord", "priority", "state", "sourceSystem", "createdAt")
    ]
    request["GlobalSecondaryIndexes"] = [
        {
            "IndexName": name,
            "KeySchema": [
                {"AttributeName": key, "KeyType": "HASH"},
                {"AttributeName": "createdAt", "KeyType": "RANGE"},
            ],
            "Projection": {
                "ProjectionType": "INCLUDE",
                "NonKeyAttributes": [a for a in SUMMARY_ATTRIBUTES if a != key],
            },
        }
        for name, key in zip(LEGACY_INDEXES, ("priority", "state", "sourceSystem"), strict=True)
    ]
    return request


RECORDS = (
    [zendesk_record(n, priority="High" if n % 2 else "Low") for n in range(1, 31)]
    + [zendesk_record(40, status="deleted"), shortcut_record(50, state="archived", state_type="done")]
    + [slack_record(n) for n in range(60, 70)]
)


@pytest.fixture
def old_table(dynamodb_client):
    """Records written as the first version wrote them (no sparse keys, no counters)."""
    dynamodb_client.create_table(**legacy_table_request())
    for record in RECORDS:
        item = items.record_item(record, record.home_id)
        old = {name: value for name, value in item.items() if name not in SPARSE_KEYS}
        dynamodb_client.put_item(TableName=TABLE, Item=items.serialize(old))
    return DynamoDBStore(dynamodb_client, TABLE)


def _index_names(client) -> set[str]:
    return {i["IndexName"] for i in client.describe_table(TableName=TABLE)["Table"]["GlobalSecondaryIndexes"]}


class Died(BaseException):
    pass


def test_migrate_replaces_the_indexes_fills_the_keys_and_sets_the_counters(old_table, dynamodb_client):
    assert old_table.counts().total == 0  # no counters yet
    lines: list[str] = []
    old_table.migrate(lines.append, manage_indexes=True)

    assert _index_names(dynamodb_client) == {index.name for index in INDEXES}
    # every record but the deleted one (it belongs in no index) gets its keys
    assert f"backfill: {len(RECORDS)} record(s) read, {len(RECORDS) - 1} updated" in lines
    assert old_table.read_counters() == counters.tally(RECORDS)
    assert old_table.counts().total == len(RECORDS) - 1 and old_table.counts().deleted == 1
    assert len(old_table.list_records(priority="High", limit=50).records) == 15
    assert len(old_table.list_records(source="shortcut", limit=50).records) == 0  # archived: not listed
    assert len(old_table.unlinked_slack(limit=50).records) == 10

    again: list[str] = []
    old_table.migrate(again.append, manage_indexes=True)  # idempotent: nothing left to do
    assert f"backfill: {len(RECORDS)} record(s) read, 0 updated" in again
    assert "counters set (0 counter(s) corrected)" in again


def test_a_killed_backfill_resumes_where_it_stopped(old_table, monkeypatch):
    monkeypatch.setattr(dynamodb_migrate, "BACKFILL_PAGE", 10)
    real_fix, fixed = dynamodb_migrate._fix, []

    def dying(store, item):
        if len(fixed) == 25:
            raise Died  # killed in the third page
        fixed.append(item["sourceRecord"])
        return real_fix(store, item)

    monkeypatch.setattr(dynamodb_migrate, "_fix", dying)
    with pytest.raises(Died):
        old_table.migrate(lambda line: None, manage_indexes=True)
    monkeypatch.setattr(dynamodb_migrate, "_fix", real_fix)

    lines: list[str] = []
    old_table.migrate(lines.append, manage_indexes=True)
    assert "backfill: resuming from the saved position" in lines
    # 20 were saved as done; the rest of the table (the killed page again included) is read once more
    assert any(line.startswith(f"backfill: {len(RECORDS)} record(s) read, ") for line in lines), lines
    assert old_table.read_counters() == counters.tally(RECORDS)
    assert len(old_table.list_records(priority="High", limit=50).records) == 15
    again: list[str] = []
    old_table.migrate(again.append, manage_indexes=True)
    assert f"backfill: {len(RECORDS)} record(s) read, 0 updated" in again


def test_on_aws_the_indexes_are_left_to_terraform(old_table, dynamodb_client):
    lines: list[str] = []
    old_table.migrate(lines.append, manage_indexes=False)
    assert (
        "index live-priority-index is missing: `terraform apply` creates it (then run migrate again)" in lines
    )
    assert _index_names(dynamodb_client) == set(LEGACY_INDEXES)
    stored = dynamodb_client.get_item(TableName=TABLE, Key=items.key("ZD-1", "zendesk#1"))["Item"]
    assert stored["livePriority"] == {"S": "High"} and stored["liveSource"] == {"S": "zendesk"}


def test_a_record_rewritten_meanwhile_is_left_as_the_writer_left_it(old_table, dynamodb_client, monkeypatch):
    newer = replace(zendesk_record(1, updated=50, status="deleted"), priority="High")
    real_call = old_table.port.call

    def racing(operation, **kwargs):
        if operation == "update_item" and kwargs["Key"] == items.key("ZD-1", "zendesk#1"):
            item = items.record_item(newer, "ZD-1")  # another writer (current code) got there first
            dynamodb_client.put_item(TableName=TABLE, Item=items.serialize(item))
        return real_call(operation, **kwargs)

    monkeypatch.setattr(old_table.port, "call", racing)
    old_table.migrate(lambda line: None, manage_indexes=True)
    stored = dynamodb_client.get_item(TableName=TABLE, Key=items.key("ZD-1", "zendesk#1"))["Item"]
    assert "livePriority" not in stored and stored["deleted"] == {"BOOL": True}  # the deleted copy stands
