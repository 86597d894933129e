"""The impact benchmark at a tiny size against moto's server: the ranked read is one Query and agrees with a
ranking from a full pass, so bench/impact_top.py cannot rot."""

from __future__ import annotations

from collections import Counter

import boto3

from bench.impact_top import run_size


def test_the_ranked_read_is_one_query_and_agrees_with_a_full_pass(moto_server: str) -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="bench-fake-key",
        aws_secret_access_key="bench-fake-secret",
    )
    calls: Counter[str] = Counter()
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    row = run_size(client, calls, 300, 5, full_pass_max=300)  # raises when the two rankings differ
    assert row["after_calls"] == {"Query": 1}
    assert row["before_calls"].get("Scan", 0) >= 1
