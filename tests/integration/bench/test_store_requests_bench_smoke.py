"""The request-count benchmark at a tiny size over the real Socket Mode client and moto's server: a new
report reads nothing and writes its one conditional insert, a redelivery costs that insert refused, so
bench/store_requests.py cannot rot."""

from __future__ import annotations

from bench.store_requests import measure


def test_reports_and_redeliveries_cost_what_the_benchmark_says(moto_server: str) -> None:
    phases = measure(moto_server, 4, 0)
    new, again = phases["new reports"], phases["redeliveries"]
    assert new["TransactWriteItems"] == 4 and new["GetItem"] == 0  # one insert each, nothing read first
    assert new["BatchGetItem"] >= 1  # the catch-up sweep read the channel's reports in a batch
    assert again["TransactWriteItems"] == 4 and again["GetItem"] == 0  # refused: it returned the stored copy
    assert sum(new.values()) <= 3 * 4
