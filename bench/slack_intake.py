"""Benchmark: Slack message intake over the real Socket Mode path, sweep on, on both stores.

The real Socket Mode client (slack_sdk's, under bot/slack/socket_mode.py) connects to the local fake Slack
(tests/fakes/slack_server.py); each message is pushed as an `events_api` envelope over the WebSocket; the
bot stores it and answers in the thread, and the sweep (bot/slack/sweep.py) reads the channel's history
every `--sweep` seconds meanwhile. Measured, for the embedded SQLite store and for the DynamoDB store on
moto's server over HTTP (started here), side by side:
  1. latency, paced sending (default 200 messages at 20 msgs/s): envelope sent -> record stored, p50 / p99;
  2. throughput, burst sending (default 1,000): msgs/sec until every one is stored, and the number lost;
  3. answers: how many were posted in the `--drain` seconds after the last report was stored (Slack's pace:
     about 1 a second per channel after a burst of 3), and that no report was answered twice;
  4. DynamoDB requests: per new report and per redelivery through the intake itself, and everything the
     process sent during the paced run (intake, marks, sweeps) per report.
`--baseline REF` runs the same measurement, SQLite only, on the code of REF (a git worktree of it, made and
removed here) in the same run, each run given `--deadline` seconds to store its reports: the previous design
stored and answered on Bolt's listener threads, so storing ran at the pace of answering.
moto is not DynamoDB: request counts matter, its latencies do not.
Run: .venv/bin/python -m bench.slack_intake [--messages 1000] [--paced 200] [--rate 20] [--baseline REF]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

if os.environ.get("BENCH_CODE_ROOT"):  # --baseline: the bot of another checkout, measured the same way
    sys.path.insert(0, os.environ["BENCH_CODE_ROOT"])

from bench._support import CallCounter, moto_server  # noqa: E402
from bot.bootstrap import build_slack_client  # noqa: E402
from bot.config import SlackConfig  # noqa: E402
from bot.slack.intake import Intake  # noqa: E402
from storage.dynamodb import DynamoDBStore  # noqa: E402
from storage.sqlite import SqliteStore  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402

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

        def upsert_linked(self, record, target_id, actor, **options):
            result = super().upsert_linked(record, target_id, actor, **options)
            self.stored_at.setdefault(record.record_id, time.perf_counter())
            return result

        def try_insert(self, record, **options):
            inserted, stored = super().try_insert(record, **options)
            if inserted is not None:
                self.stored_at.setdefault(record.record_id, time.perf_counter())
            return inserted, stored

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


def start_intake(config: SlackConfig, store: Any) -> Callable[[], None]:
    """The bot's Slack side on `store`, connected; returns what stops it. The current wiring (bootstrap's
    build_slack_parts), or, for a baseline checkout from before it, that checkout's own."""
    client = build_slack_client(config)
    try:
        from bot.bootstrap import build_slack_parts
    except ImportError:  # the previous design: answers posted on Bolt's listener threads
        from bot.slack.app import build_app
        from bot.slack.socket_mode import start_socket_mode

        app, intake = build_app(config, store, client)
        handler = start_socket_mode(app, config, intake)
        return handler.close  # type: ignore[no-any-return]
    from bot.slack.socket_mode import SocketConnection

    parts = build_slack_parts(config, store, client, client.auth_test().data)
    connection = SocketConnection(parts.app, config.app_token, on_hello=parts.sweeper.wake)
    services = [parts.answers, parts.sweeper, parts.deps.delivery, connection]
    for service in services:
        service.start()

    def stop() -> None:
        for service in reversed(services):
            service.stop(5.0)

    return stop


def run(
    kind: str,
    messages: int,
    rate: float | None,
    sweep: int,
    workdir: Path,
    endpoint: str | None,
    deadline: float = 300,
    drain: float = 20,
) -> dict:
    label = "paced" if rate else "burst"
    store, counter = make_store(kind, workdir, label, endpoint)
    with FakeSlack() as fake:
        config = SlackConfig(
            "xoxb-bench-token", "xapp-bench-token", (CHANNEL,), fake.api_url, (), True, sweep_seconds=sweep
        )
        stop = start_intake(config, store)
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
            until = time.monotonic() + deadline
            while len(store.stored_at.keys() & sent.keys()) < messages and time.monotonic() < until:
                time.sleep(0.01)
            finished = max(store.stored_at.get(ts, 0.0) for ts in sent)
            answered_then, posts_then = len(_answers(fake, sent)), len(fake.posts)
            time.sleep(drain)  # the answers drain meanwhile, at Slack's pace
            answers, posts = _answers(fake, sent), len(fake.posts) - posts_then
            calls = (counter.total() - calls_before) if counter else 0
            sweeps = fake.calls.count("conversations.history") - sweeps_before
        finally:
            stop()
    latencies = sorted((store.stored_at[ts] - sent[ts]) * 1000 for ts in sent if ts in store.stored_at)
    stored = sum(1 for ts in sent if ts in store.stored_at)
    return {
        "messages": messages,
        "stored": stored,
        "lost": messages - stored,
        "answered": len(answers),
        "answered_twice": sum(1 for count in answers.values() if count > 1),
        "drain_per_sec": (len(answers) - answered_then) / drain,  # reports answered (a fold names many)
        "posts_per_sec": posts / drain,  # chat.postMessage calls: Slack's pace
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] if latencies else float("nan"),
        "msgs_per_sec": stored / (finished - started) if stored else 0.0,
        "requests_per_report": calls / messages if counter else None,
        "sweeps": sweeps,
    }


def _answers(fake: FakeSlack, sent: dict[str, float]) -> Counter[str]:
    """Answers per report: thread answers, and the reports a folded answer names."""
    counts: Counter[str] = Counter()
    for post in list(fake.posts):
        if post.get("thread_ts") in sent:
            counts[post["thread_ts"]] += 1
        elif not post.get("thread_ts"):
            for ts in sent:
                if f"SL-{ts}" in (post.get("text") or ""):
                    counts[ts] += 1
    return counts


def baseline(ref: str, args: argparse.Namespace) -> dict[str, dict]:
    """The SQLite runs on the code of `ref`, in a git worktree made and removed here."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(tree), ref], check=True,
                       capture_output=True)  # fmt: skip
        try:
            options = {"--messages": args.messages, "--paced": args.paced, "--rate": args.rate,
                       "--sweep": args.sweep, "--deadline": args.deadline, "--drain": args.drain}  # fmt: skip
            command = [sys.executable, "-m", "bench.slack_intake", "--json", "--only", "sqlite"]
            command += [str(part) for option in options.items() for part in option]
            env = {**os.environ, "BENCH_CODE_ROOT": str(tree)}
            done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=True)
            return json.loads(done.stdout.splitlines()[-1])["sqlite"]
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(tree)], check=False)


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
    parser.add_argument("--messages", type=int, default=1000, help="reports in the burst run")
    parser.add_argument("--paced", type=int, default=200, help="reports in the paced run")
    parser.add_argument("--rate", type=float, default=20.0, help="messages/sec for the paced run")
    parser.add_argument("--sweep", type=int, default=5, help="SLACK_SWEEP_SECONDS during the runs")
    parser.add_argument("--deadline", type=float, default=120, help="seconds a run gets to store its reports")
    parser.add_argument("--drain", type=float, default=20, help="seconds the answers are watched after")
    parser.add_argument("--baseline", help="a git ref whose bot is measured beside this one (SQLite)")
    parser.add_argument("--only", choices=("sqlite", "dynamodb"), help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    kinds = (args.only,) if args.only else ("sqlite", "dynamodb")
    results: dict[str, dict[str, dict]] = {}
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            results[kind] = {
                "paced": run(kind, args.paced, args.rate, args.sweep, Path(tmp), endpoint, args.deadline,
                             args.drain),
                "burst": run(kind, args.messages, None, args.sweep, Path(tmp), endpoint, args.deadline,
                             args.drain),
            }  # fmt: skip
        per_report = requests_per_report(endpoint, 50) if not args.json else {}
    if args.json:
        print(json.dumps(results))
        return 0
    if args.baseline:
        results[f"SQLite, {args.baseline}"] = baseline(args.baseline, args)
    print(f"Slack intake: paced {args.paced} at {args.rate:.0f} msgs/s, burst {args.messages}; sweep every"
          f" {args.sweep} s; each run {args.deadline:.0f} s to store, answers watched"
          f" {args.drain:.0f} s after")  # fmt: skip
    print(f"{'store':<26} {'stored':>9} {'paced p50':>10} {'paced p99':>10} {'burst':>10} {'stored':>11}"
          f" {'answered/s':>10} {'posts/s':>7} {'twice':>5}")  # fmt: skip
    lost = 0
    for kind, runs in results.items():
        paced, burst = runs["paced"], runs["burst"]
        name = {"sqlite": "SQLite", "dynamodb": "DynamoDB (moto, HTTP)"}.get(kind, kind)
        if kind in ("sqlite", "dynamodb"):
            lost += paced["lost"] + burst["lost"] + paced["answered_twice"] + burst["answered_twice"]
        print(
            f"{name:<26} {paced['stored']:>4}/{paced['messages']:<4} {paced['p50_ms']:>8.1f}ms"
            f" {paced['p99_ms']:>8.1f}ms {burst['msgs_per_sec']:>4.0f} msg/s"
            f" {burst['stored']:>5}/{burst['messages']:<5}"
            f" {burst['drain_per_sec']:>10.2f} {burst.get('posts_per_sec', float('nan')):>7.2f}"
            f" {paced['answered_twice'] + burst['answered_twice']:>5}"
        )  # fmt: skip
    print("(stored: within the run's deadline; answered/s: reports answered after the burst was stored,"
          " a folded message answering up to 50; posts/s: messages posted then;"
          " twice: answered more than once, must be 0)")  # fmt: skip
    for kind, runs in results.items():
        paced = runs["paced"]
        print(
            f"{kind}: {paced['sweeps']} sweeps during the paced run, {paced['answered']} of"
            f" {paced['messages']} paced reports answered by the end of the drain"
            + (
                f", {paced['requests_per_report']:.2f} DynamoDB requests per report (whole process)"
                if paced.get("requests_per_report") is not None
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
