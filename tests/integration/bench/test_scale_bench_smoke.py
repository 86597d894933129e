"""bench/scale_reads.py at a tiny size, so it cannot rot: BEFORE and AFTER agree (the bench checks it), the
AFTER request counts are the ones docs/scale.md reports, and they do not grow between two sizes."""

from __future__ import annotations

import uuid
from collections import Counter

import boto3

from bench import scale_reads
from bench._support import CallCounter


def test_after_costs_are_flat_and_before_grows(moto_server: str, monkeypatch) -> None:
    monkeypatch.setattr(scale_reads, "LINKED", 5)  # links are slow on moto; the shape stays
    client = boto3.client("dynamodb", endpoint_url=moto_server, region_name="us-east-1")
    counter = CallCounter(client)
    costs: dict[int, dict[str, tuple[Counter, Counter]]] = {}
    for count in (200, 2000):
        store = scale_reads.new_table(client, f"smoke-{uuid.uuid4().hex[:8]}")
        scale_reads.load(store, count)
        costs[count] = {}
        for name, (before, after) in scale_reads.dynamodb_operations(store, count).items():
            old, old_cost = scale_reads.measured(counter.calls, before)
            new, new_cost = scale_reads.measured(counter.calls, after)
            assert old == new, name
            costs[count][name] = (old_cost.requests, new_cost.requests)
    small, large = costs[200], costs[2000]
    after = {name.split(" ")[0] + " " + name.split(" ")[1]: cost[1] for name, cost in large.items()}
    assert after["unlinked (10)"] == {"Query": 1}
    assert after["stats (counts)"] == {"GetItem": 1}
    assert after["metrics refresh"] == {"GetItem": 2, "Query": 1}
    assert all(small[name][1] == large[name][1] for name in small if not name.startswith("show"))
    unlinked = "unlinked (10)"
    assert sum(large[unlinked][0].values()) > sum(small[unlinked][0].values()) > 1  # BEFORE grows


def test_sqlite_part_runs(capsys) -> None:
    scale_reads.run_sqlite([300])
    out = capsys.readouterr().out
    assert "backfill" in out and "stats (counts)                       1 stmts" in out
