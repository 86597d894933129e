"""The link benchmark's own functions at a tiny size on both stores, so bench/store_links.py cannot rot
unnoticed. The figures are not checked (too small to mean anything); the transaction counts are."""

from __future__ import annotations

import uuid

import boto3

from bench._support import CallCounter
from bench.store_links import report, run
from storage.dynamodb import DynamoDBStore
from storage.sqlite import SqliteStore


def test_link_benchmark_runs_and_moves_in_the_fewest_transactions(moto_server: str, tmp_path) -> None:
    client = boto3.client("dynamodb", endpoint_url=moto_server, region_name="us-east-1")
    counter = CallCounter(client)
    dynamodb_store = DynamoDBStore(client, f"smoke-{uuid.uuid4().hex[:8]}")
    dynamodb_store.init()
    dynamodb_store.port.records_per_transaction = 2  # 5 records move in 3 batches
    sqlite_store = SqliteStore(tmp_path / "bench.db")

    dynamo = run(dynamodb_store, 4, counter.calls)
    lite = run(sqlite_store, 4, None)

    link, unlink, tagged, lease = dynamo
    assert link["calls"]["TransactWriteItems"] == 1 + 3  # the alias, then 3 batches (the last: linked)
    assert unlink["calls"]["TransactWriteItems"] == 1 + 3
    assert tagged["calls"]["TransactWriteItems"] == 1  # record, stub, alias and audit in one
    assert lease["calls"] == {"GetItem": 1, "PutItem": 1}
    assert "link ZD-1 -> ZD-2 (5 records)" in report(lite, dynamo)
