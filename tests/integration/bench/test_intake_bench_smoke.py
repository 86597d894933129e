"""The intake benchmark's request counting at a tiny size against moto's server: the round-trip target
holds (a new report at most 2 DynamoDB requests, a redelivery 1), so bench/slack_intake.py cannot rot."""

from __future__ import annotations

from bench.slack_intake import requests_per_report


def test_a_new_report_costs_two_requests_and_a_redelivery_one(moto_server: str) -> None:
    figures = requests_per_report(moto_server, 5)
    assert figures["new report"] == {"GetItem": 1, "TransactWriteItems": 1}
    assert figures["redelivery"] == {"GetItem": 1}
    assert figures["thread reply"] == {"GetItem": 1, "PutItem": 1}
