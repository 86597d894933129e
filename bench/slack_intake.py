"""Benchmark: Slack message intake over the real Socket Mode path into the embedded store.

The real SocketModeHandler (slack_bolt) connects to the local fake Slack (tests/fakes/slack_server.py);
each message is pushed as an `events_api` envelope over the WebSocket. Measured:
  1. latency, paced sending: envelope sent -> record stored (p50 / p99) over N messages;
  2. throughput, burst sending: N messages as fast as the socket takes them; msgs/sec until every one is
     stored, and the number lost (must be 0).
Run: .venv/bin/python -m bench.slack_intake [--messages 2000] [--rate 200]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.bootstrap import build_slack_client  # noqa: E402
from bot.config import SlackConfig  # noqa: E402
from bot.slack.app import build_app  # noqa: E402
from bot.slack.socket_mode import start_socket_mode  # noqa: E402
from storage.sqlite import SqliteStore  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402

CHANNEL = "C0BUGS"


class TimedStore(SqliteStore):
    """The embedded store, noting when each Slack record is first stored."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.stored_at: dict[str, float] = {}

    def upsert(self, record):
        result = super().upsert(record)
        self.stored_at.setdefault(record.record_id, time.perf_counter())
        return result


def run(messages: int, rate: float | None, workdir: Path, label: str) -> dict[str, float]:
    store = TimedStore(workdir / f"{label}.db")
    store.init()
    with FakeSlack() as fake:
        config = SlackConfig("xoxb-bench-token", "xapp-bench-token", (CHANNEL,), fake.api_url, (), True)
        app, intake = build_app(config, store, build_slack_client(config))
        handler = start_socket_mode(app, config, intake)
        try:
            fake.wait_for(lambda: fake.connections, timeout=20)
            time.sleep(0.5)  # let the first catch-up finish so it does not share the measurement
            sent: dict[str, float] = {}
            started = time.perf_counter()
            for n in range(messages):
                message = fake.message(CHANNEL, f"bench bug {n} priority=High")
                sent[message["ts"]] = time.perf_counter()
                fake.push_event({**message, "channel": CHANNEL})
                if rate:
                    time.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
            deadline = time.monotonic() + 120
            while len(store.stored_at.keys() & sent.keys()) < messages and time.monotonic() < deadline:
                time.sleep(0.01)
            finished = max(store.stored_at.get(ts, 0.0) for ts in sent)
        finally:
            handler.close()
    latencies = sorted((store.stored_at[ts] - sent[ts]) * 1000 for ts in sent if ts in store.stored_at)
    stored = store.counts().by_source.get("slack", 0)
    return {
        "messages": messages,
        "stored": stored,
        "lost": messages - stored,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "msgs_per_sec": messages / (finished - started),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0, help="messages/sec for the latency run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        paced = run(args.messages, args.rate, Path(tmp), "paced")
        burst = run(args.messages, None, Path(tmp), "burst")
    print(
        f"latency run ({args.rate:.0f} msgs/s offered, {paced['messages']} messages, {paced['lost']} lost):"
    )
    print(f"  envelope sent -> record stored: p50 {paced['p50_ms']:.1f} ms, p99 {paced['p99_ms']:.1f} ms")
    print(f"burst run ({burst['messages']} messages as fast as possible, {burst['lost']} lost):")
    print(
        f"  {burst['msgs_per_sec']:.0f} msgs/s sustained;"
        f" p50 {burst['p50_ms']:.0f} ms, p99 {burst['p99_ms']:.0f} ms"
    )
    return 0 if paced["lost"] == burst["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
