"""Benchmark: DynamoDB requests per Slack report in the whole bot process, by operation, beside the floor.

The Slack side of the bot as it runs (Bolt over the real Socket Mode client against the local fake Slack,
tests/fakes/slack_server.py; the suggestion index and the status board on; the sweep on each new connection,
and every `--sweep` seconds when given) writes to a DynamoDBStore on moto's server over HTTP. Every request
its boto3 client makes is counted by operation (a botocore `before-call` hook). Two phases, each divided by
the number of reports:
  1. new reports: a burst of `--reports` reports, until each is stored and answered, then a catch-up sweep
     (the connection dropped and made again) reads the channel and the mark is saved: intake, answers,
     status cards, the Home tab's data, the sweep's checks and the mark together;
  2. redeliveries: Slack delivers every one of them again (retry_attempt 1), then a sweep and the mark.
The floor is one conditional write per new report (nothing can be stored in fewer) and one request per
redelivery. Then the intake alone, per event (bench/slack_intake.py's count). moto is not DynamoDB: the
counts are what matters here, not the times.
Run: .venv/bin/python -m bench.store_requests [--reports 50] [--sweep 0]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench._support import CallCounter, dynamodb_client, moto_server
from bench.slack_intake import requests_per_report
from bot.bootstrap import build_slack_client, build_slack_parts, build_suggester
from bot.config import SlackConfig
from bot.slack.socket_mode import SocketConnection
from storage.dynamodb import DynamoDBStore
from tests.fakes.slack_server import FakeSlack

CHANNEL = "C0BUGS"
FLOOR = {"new reports": 1.0, "redeliveries": 1.0}  # one conditional write / one read per report


def _until(condition: Callable[[], Any], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.02)


def _quiet(counter: CallCounter, seconds: float = 1.5) -> None:
    """Until the process has sent no request for `seconds` (the mark is saved at most once a second)."""
    last, since = counter.total(), time.monotonic()
    while time.monotonic() - since < seconds:
        time.sleep(0.1)
        if counter.total() != last:
            last, since = counter.total(), time.monotonic()


def measure(endpoint: str, reports: int, sweep: int) -> dict[str, Counter[str]]:
    client = dynamodb_client(endpoint)
    counter = CallCounter(client)
    table = DynamoDBStore(client, f"requests-{uuid.uuid4().hex[:6]}")
    table.init()
    store, suggester = build_suggester(table)
    phases: dict[str, Counter[str]] = {}
    with FakeSlack() as fake:
        config = SlackConfig(
            "xoxb-bench-token", "xapp-bench-token", (CHANNEL,), fake.api_url, (), True, sweep_seconds=sweep
        )
        slack = build_slack_client(config)
        parts = build_slack_parts(
            config, store, slack, slack.auth_test().data, suggester=suggester, status_updates=True
        )
        connection = SocketConnection(parts.app, config.app_token, on_hello=parts.sweeper.wake)
        services = [parts.answers, parts.sweeper, parts.deps.delivery, connection]
        for service in services:
            service.start()
        try:
            _until(lambda: fake.connections, "the Socket Mode connection")
            _until(lambda: store.get_meta(f"slack:last_ts:{CHANNEL}"), "the first start in the channel")
            _quiet(counter)

            def phase(name: str, push: Callable[[], list[str]], done: Callable[[list[str]], bool]) -> None:
                before = Counter(counter.calls)
                sent = push()
                _until(lambda: done(sent), f"{name} to be handled")
                _quiet(counter)
                if not sweep:  # catch-up on a new connection: the sweep reads what the phase stored
                    sweeps = fake.calls.count("conversations.history")
                    fake.disconnect_all()
                    _until(lambda: fake.calls.count("conversations.history") > sweeps, "the catch-up sweep")
                _quiet(counter)
                phases[name] = counter.calls - before

            messages: list[dict[str, Any]] = []

            def push_new() -> list[str]:
                for n in range(reports):
                    message = fake.message(CHANNEL, f"checkout fails for customer {n} priority=High")
                    messages.append(message)
                    fake.push_event({**message, "channel": CHANNEL})
                return [message["ts"] for message in messages]

            def answered(sent: list[str]) -> bool:
                return set(sent) <= {post.get("thread_ts") for post in fake.posts}

            def push_again() -> list[str]:
                for message in messages:
                    fake.push_event({**message, "channel": CHANNEL}, retry_attempt=1)
                return [message["ts"] for message in messages]

            phase("new reports", push_new, answered)
            start = counter.total()  # each redelivery makes at least one request: wait for them all
            phase("redeliveries", push_again, lambda sent: counter.total() - start >= len(sent))
        finally:
            for service in reversed(services):
                service.stop(5.0)
    return phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument(
        "--sweep",
        type=int,
        default=0,
        help="SLACK_SWEEP_SECONDS (0: one sweep after each phase, on reconnect)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with moto_server() as endpoint:  # each request atomic, as on DynamoDB (moto alone is not)
        phases = measure(endpoint, args.reports, args.sweep)
        per_event = requests_per_report(endpoint, args.reports)
    print(
        f"DynamoDB requests per Slack report, whole process ({args.reports} reports,"
        f" sweep every {args.sweep} s)"
    )
    print(f"{'phase':<14} {'total':>6} {'floor':>6}  by operation")
    worst = 0.0
    for name, calls in phases.items():
        total = sum(calls.values()) / args.reports
        worst = max(worst, total / FLOOR[name])
        detail = ", ".join(
            f"{operation} {count / args.reports:.2f}" for operation, count in sorted(calls.items())
        )
        print(f"{name:<14} {total:>6.2f} {FLOOR[name]:>6.0f}  {detail}")
    print(f"worst ratio to the floor: {worst:.2f}")
    print("through the intake alone (no answers, sweep or mark), per event:")
    for name, calls in per_event.items():
        detail = ", ".join(f"{operation} {count:g}" for operation, count in calls.items())
        print(f"  {name:<13} {sum(calls.values()):g}  ({detail})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
