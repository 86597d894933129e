"""The intake benchmark's request counting at a tiny size against moto's server: the round-trip target
holds (a new report one conditional write, a redelivery that write refused), so bench/slack_intake.py cannot
rot."""

from __future__ import annotations

from bench.slack_intake import requests_per_report


def test_a_new_report_costs_one_request_and_a_redelivery_one(moto_server: str) -> None:
    figures = requests_per_report(moto_server, 5)
    assert figures["new report"] == {"TransactWriteItems": 1}
    assert figures["redelivery"] == {"TransactWriteItems": 1}  # refused: it returns the stored copy
    # the report's read, its ticket's impact tally read (storage/impact.py), the update with the tally
    assert figures["thread reply"] == {"BatchGetItem": 1, "GetItem": 1, "TransactWriteItems": 1}
