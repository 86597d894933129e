"""The store benchmark's own functions at a tiny size against moto's server, so bench/store_bulk.py cannot rot
unnoticed. The figures are not checked (too small to mean anything); what the benchmark proves is."""

from __future__ import annotations

import uuid

import boto3

from bench._support import CallCounter
from bench.store_bulk import bulk_vs_naive, read_latency, report


def test_store_benchmark_runs_and_proves_its_claims(moto_server: str) -> None:
    client = boto3.client("dynamodb", endpoint_url=moto_server, region_name="us-east-1")
    counter = CallCounter(client)
    prefix = f"smoke-{uuid.uuid4().hex[:8]}"

    bulk = bulk_vs_naive(client, counter, 60, prefix)
    load, reads = read_latency(client, counter, 90, show_calls=3, list_calls=2, prefix=prefix)

    assert bulk["naive"].calls == {"PutItem": 60}
    # 60 records / 25 a batch, then one impact tally per ticket id (each record is its own bug here) / 25
    assert "PutItem" not in bulk["bulk"].calls and bulk["bulk"].calls["BatchWriteItem"] == 3 + 3
    assert bulk["unchanged"].writes() == 0 and bulk["unchanged"].calls == {"BatchGetItem": 1}
    assert load.calls["BatchWriteItem"] == 4 + 4  # 90 records / 25, then their 90 tallies / 25
    shows = {name: latency for name, latency in reads.items() if name.startswith("show")}
    assert [sorted(set(latency.queries)) for latency in shows.values()] == [[1], [2]]  # unlinked, linked
    assert all(latency.other_calls == 0 for name, latency in reads.items() if name != "counts()")
    assert all(latency.queries == [1, 1] for name, latency in reads.items() if name.startswith("list"))
    # the counters kept by every write: one GetItem, no Query (it was one paged Query per source)
    assert reads["counts()"].queries == [0] and reads["counts()"].other_calls == 1
    text = report(60, 90, bulk, load, reads)
    assert "faster" in text and "items written: 0" in text and "counts()" in text
