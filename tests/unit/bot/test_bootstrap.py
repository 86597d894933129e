from __future__ import annotations

from bot.bootstrap import build_dynamodb_client, build_store
from bot.config import load_config
from storage.dynamodb import DynamoDBStore
from storage.sqlite import SqliteStore


def test_the_dynamodb_client_uses_botocores_standard_retry_mode():
    config = load_config({"DYNAMODB_TABLE": "BugTracker", "AWS_MAX_ATTEMPTS": "5", "AWS_REGION": "eu-west-1"})
    client = build_dynamodb_client(config)
    assert client.meta.config.retries["mode"] == "standard"
    assert client.meta.config.retries["total_max_attempts"] == 5  # AWS_MAX_ATTEMPTS counts the first try
    assert client.meta.region_name == "eu-west-1"


def test_the_store_follows_dynamodb_table(tmp_path):
    embedded = build_store(load_config({"BUGTRACKER_DB": str(tmp_path / "x.db")}))
    assert isinstance(embedded, SqliteStore) and str(tmp_path) in embedded.description
    table = build_store(
        load_config({"DYNAMODB_TABLE": "Bugs", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"})
    )
    assert isinstance(table, DynamoDBStore)
    assert table.description == "DynamoDB table 'Bugs' at http://127.0.0.1:9"
