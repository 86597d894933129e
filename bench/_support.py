"""What the benchmarks share: one moto server over HTTP, a DynamoDB client for it, and a counter of a
client's DynamoDB requests.

The server is the test suite's (tests/support/moto_server.py): moto's DynamoDB on a free loopback port,
applying one request at a time as DynamoDB applies each request atomically. moto is not DynamoDB: request
counts and ratios matter, its latencies do not.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.moto_server import AtomicMotoServer


class CallCounter:
    """Every DynamoDB request a boto3 client makes, by operation name (botocore's before-call event)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def total(self) -> int:
        return sum(self.calls.values())


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's DynamoDB server for the length of the block; yields its endpoint URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # it logs every request otherwise
    server = AtomicMotoServer().start()
    try:
        yield server.url
    finally:
        server.stop()


def dynamodb_client(endpoint: str) -> Any:
    """A boto3 DynamoDB client for the moto server at `endpoint`, with fake credentials of its own."""
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench-fake-key",
        aws_secret_access_key="bench-fake-secret",
    )
