"""`bugtracker migrate` erases the text of Slack reports deleted by a version that kept it, on both stores,
as a real process; what is left is checked in the store's raw row / item."""

from __future__ import annotations

import json
import sqlite3

import pytest

from storage.sqlite import SqliteStore
from tests.support.builders import slack_record, zendesk_record
from tests.support.processes import child_env, run_entry_point

SECRET = "salary of Jane Doe is wrong"


def old_records():
    """What an older version stored: a deleted report with its words, a live one, a ticket."""
    deleted = slack_record(1, text=SECRET, priority="High", priority_raw="top-urgent", deleted=True)
    return [deleted, slack_record(2, text="checkout broken"), zendesk_record(5)], deleted


def migrate(tmp_path, env):
    done = run_entry_point("bot.cli", "migrate", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "erased the text of 1 Slack report(s)" in done.stderr
    again = run_entry_point("bot.cli", "migrate", cwd=tmp_path, env=env)
    assert again.returncode == 0 and "erased the text of 0 Slack report(s)" in again.stderr


def test_migrate_erases_old_deleted_reports_on_sqlite(tmp_path):
    env = child_env(BUGTRACKER_DB=str(tmp_path / "bugs.db"))
    store = SqliteStore(env["BUGTRACKER_DB"])
    records, deleted = old_records()
    store.upsert_many(records)
    store.close()
    migrate(tmp_path, env)
    with sqlite3.connect(env["BUGTRACKER_DB"]) as raw:
        rows = raw.execute("SELECT * FROM records WHERE record_id = ?", (deleted.record_id,)).fetchall()
        everything = json.dumps(raw.execute("SELECT * FROM records").fetchall())
    assert len(rows) == 1 and "Jane" not in json.dumps(rows) and "top-urgent" not in json.dumps(rows)
    assert "Jane" not in everything and "checkout broken" in everything  # only the deleted one
    kept = SqliteStore(env["BUGTRACKER_DB"]).get_record("slack", deleted.record_id)
    assert kept.deleted and kept.attributes == {"author": "U0AUTHOR", "channel": "C0BUGS"}
    assert kept.created_at == deleted.created_at and kept.updated_at == deleted.updated_at


def test_migrate_erases_old_deleted_reports_on_dynamodb(tmp_path, moto_endpoint_env):
    import boto3

    from storage.dynamodb import DynamoDBStore

    env = moto_endpoint_env
    assert run_entry_point("bot.cli", "init", cwd=tmp_path, env=env).returncode == 0
    client = boto3.client("dynamodb")
    records, deleted = old_records()
    DynamoDBStore(client, env["DYNAMODB_TABLE"]).upsert_many(records)
    migrate(tmp_path, env)
    item = client.get_item(
        TableName=env["DYNAMODB_TABLE"],
        Key={"ticketId": {"S": deleted.home_id}, "sourceRecord": {"S": deleted.source_record}},
        ConsistentRead=True,
    )["Item"]
    assert "Jane" not in json.dumps(item) and "top-urgent" not in json.dumps(item)
    assert item["author"] == {"S": "U0AUTHOR"} and item["channel"] == {"S": "C0BUGS"}
    scanned = json.dumps(client.scan(TableName=env["DYNAMODB_TABLE"])["Items"])
    assert "Jane" not in scanned and "checkout broken" in scanned


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.delenv("LOG_LEVEL", raising=False)
