"""Benchmark: Slack message intake over the real Socket Mode path, sweep on, on both stores.

The real SocketModeHandler (slack_bolt) connects to the local fake Slack (tests/fakes/slack_server.py);
each message is pushed as an `events_api` envelope over the WebSocket; the bot answers in the thread and the
sweep (bot/slack/sweep.py) reads the channel's history every `--sweep` seconds meanwhile. Measured, for the
embedded SQLite store and for the DynamoDB store on moto's server over HTTP (started here), side by side:
  1. latency, paced sending (default 20 msgs/s): envelope sent -> record stored, p50 / p99;
  2. throughput, burst sending: msgs/sec until every one is stored, and the number lost (must be 0);
  3. DynamoDB requests: per new report and per redelivery through the intake itself, and everything the
     process sent during the paced run (intake, marks, sweeps) per report.
moto is not DynamoDB: request counts matter, its latencies do not.
Run: .venv/bin/python -m bench.slack_intake [--messages 1000] [--rate 20] [--sweep 5]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench._support import CallCounter, moto_server
from bot.bootstrap import build_slack_client
from bot.config import SlackConfig
from bot.slack.app import build_app
from bot.slack.intake import Intake
from bot.slack.socket_mode import start_socket_mode
from storage.dynamodb import DynamoDBStore
from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack

CHANNEL = "C0BUGS"
MOTO = {"region_name": "us-east-1", "aws_access_key_id": "bench", "aws_secret_access_key": "bench"}


def timed(base: type) -> type:
    """The store class `base`, noting when each Slack record is first stored."""

    class Timed(base):  # type: ignore[misc, valid-type]
        stored_at: dict[str, float]

        def upsert(self, record, **options):
            result = super().upsert(record, **options)
            self.stored_at.setdefault(record.record_id, time.perf_counter())
            return result

        def upsert_linked(self, record, target_id, actor):
            result = super().upsert_linked(record, target_id, actor)
            self.stored_at.setdefault(record.record_id, time.perf_counter())
            return result

    return Timed


def make_store(kind: str, workdir: Path, label: str, endpoint: str | None) -> tuple[Any, CallCounter | None]:
    if kind == "sqlite":
        store = timed(SqliteStore)(workdir / f"{label}.db")
        counter = None
    else:
        import boto3

        client = boto3.client("dynamodb", endpoint_url=endpoint, **MOTO)
        counter = CallCounter(client)
        store = timed(DynamoDBStore)(client, f"intake-{label}-{uuid.uuid4().hex[:6]}")
    store.stored_at = {}
    store.init()
    return store, counter


def run(
    kind: str, messages: int, rate: float | None, sweep: int, workdir: Path, endpoint: str | None
) -> dict:
    label = "paced" if rate else "burst"
    store, counter = make_store(kind, workdir, label, endpoint)
    with FakeSlack() as fake:
        config = SlackConfig(
            "xoxb-bench-token", "xapp-bench-token", (CHANNEL,), fake.api_url, (), True, sweep_seconds=sweep
        )
        app, intake = build_app(config, store, build_slack_client(config))
        handler = start_socket_mode(app, config, intake)
        try:
            fake.wait_for(lambda: fake.connections, timeout=20)
            fake.wait_for(lambda: store.get_meta(f"slack:last_ts:{CHANNEL}"), timeout=20)  # first start
            calls_before = counter.total() if counter else 0
            sweeps_before = fake.calls.count("conversations.history")
            sent: dict[str, float] = {}
            started = time.perf_counter()
            for n in range(messages):
                message = fake.message(CHANNEL, f"bench bug {n} priority=High")
                sent[message["ts"]] = time.perf_counter()
                fake.push_event({**message, "channel": CHANNEL})
                if rate:
                    time.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
            deadline = time.monotonic() + 300
            while len(store.stored_at.keys() & sent.keys()) < messages and time.monotonic() < deadline:
                time.sleep(0.01)
            finished = max(store.stored_at.get(ts, 0.0) for ts in sent)
            time.sleep(1.5)  # the last mark save (at most once a second)
            calls = (counter.total() - calls_before) if counter else 0
            sweeps = fake.calls.count("conversations.history") - sweeps_before
            answered = len({post.get("thread_ts") for post in fake.posts} & sent.keys())
        finally:
            handler.close()
    latencies = sorted((store.stored_at[ts] - sent[ts]) * 1000 for ts in sent if ts in store.stored_at)
    stored = sum(1 for ts in sent if store.get_record("slack", ts) is not None)
    return {
        "messages": messages,
        "stored": stored,
        "lost": messages - stored,
        "answered": answered,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)],
        "msgs_per_sec": messages / (finished - started),
        "requests_per_report": calls / messages if counter else None,
        "sweeps": sweeps,
    }


def requests_per_report(endpoint: str, reports: int) -> dict[str, dict[str, float]]:
    """DynamoDB requests the intake itself makes: new reports, redeliveries, and a reply to each."""
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint, **MOTO)
    counter = CallCounter(client)
    store = DynamoDBStore(client, f"intake-requests-{uuid.uuid4().hex[:6]}")
    store.init()
    intake = Intake(store)
    fake_ts = [f"{1_800_000_000 + n}.000100" for n in range(reports)]
    figures: dict[str, dict[str, float]] = {}

    def measure(name: str, work) -> None:
        before = Counter(counter.calls)
        for ts in fake_ts:
            work(ts)
        used = counter.calls - before
        figures[name] = {operation: count / reports for operation, count in sorted(used.items())}

    def message(ts: str) -> dict[str, str]:
        return {"type": "message", "user": "U0ALICE", "text": f"bug {ts} priority=High", "ts": ts}

    measure("new report", lambda ts: intake.ingest_message(message(ts), CHANNEL))
    measure("redelivery", lambda ts: intake.ingest_message(message(ts), CHANNEL))
    reply = {"type": "message", "user": "U0BOB", "text": "same here"}
    later = {ts: ts.replace(".000100", ".500000") for ts in fake_ts}  # half a second after its report
    measure(
        "thread reply", lambda ts: intake.thread_reply({**reply, "ts": later[ts], "thread_ts": ts}, CHANNEL)
    )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="messages/sec for the latency run")
    parser.add_argument("--sweep", type=int, default=5, help="SLACK_SWEEP_SECONDS during the runs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results: dict[str, dict[str, dict]] = {}
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        for kind in ("sqlite", "dynamodb"):
            results[kind] = {
                "paced": run(kind, args.messages, args.rate, args.sweep, Path(tmp), endpoint),
                "burst": run(kind, args.messages, None, args.sweep, Path(tmp), endpoint),
            }
        per_report = requests_per_report(endpoint, 50)
    print(f"Slack intake, {args.messages} messages a run, sweep every {args.sweep} s, thread answers on")
    print(f"{'store':<22} {'paced p50':>10} {'paced p99':>10} {'burst':>12} {'burst p99':>10} {'lost':>5}")
    lost = 0
    for kind, runs in results.items():
        paced, burst = runs["paced"], runs["burst"]
        lost += paced["lost"] + burst["lost"]
        name = "SQLite" if kind == "sqlite" else "DynamoDB (moto, HTTP)"
        print(
            f"{name:<22} {paced['p50_ms']:>8.1f}ms {paced['p99_ms']:>8.1f}ms"
            f" {burst['msgs_per_sec']:>6.0f} msg/s {burst['p99_ms'] / 1000:>9.1f}s"
            f" {paced['lost'] + burst['lost']:>5}"
        )
    print(f"(paced at {args.rate:.0f} msgs/s; burst: as fast as the socket takes them, until all stored)")
    for kind, runs in results.items():
        paced = runs["paced"]
        print(
            f"{kind}: {paced['sweeps']} sweeps during the paced run, {paced['answered']} of"
            f" {paced['messages']} reports answered"
            + (
                f", {paced['requests_per_report']:.2f} DynamoDB requests per report (whole process)"
                if paced["requests_per_report"] is not None
                else ""
            )
        )
    print("DynamoDB requests per event through the intake (the first design: new report 6, redelivery 2):")
    for name, calls in per_report.items():
        total = sum(calls.values())
        detail = ", ".join(f"{operation} {count:g}" for operation, count in calls.items())
        print(f"  {name:<13} {total:g}  ({detail})")
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
