"""Benchmark: how long the bot takes to stop, the real process over the real Socket Mode client.

The bot (`python -m bot`) connects to the local fake Slack (tests/fakes/slack_server.py); then, `--tries`
times each: SIGTERM while idle, and SIGTERM just after a burst of `--burst` reports (stored at once, their
answers still waiting on Slack's posting pace). Printed: seconds from the signal to the process's exit (min,
median, max) and how many exits were the forced one (bot/shutdown.py: past GRACE_SECONDS the process exits
anyway). The bound that matters is ECS's stopTimeout (30 s) and the e2e test's 10 s.
Run: .venv/bin/python -m bench.stopping [--tries 5] [--burst 40]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.shutdown import GRACE_SECONDS  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402
from tests.support.processes import child_env, start_entry_point, stop_bot  # noqa: E402

CHANNEL = "C0BUGS"


def one_stop(burst: int) -> tuple[float, bool]:
    """(seconds from SIGTERM to exit, whether the exit was the forced one)."""
    with tempfile.TemporaryDirectory() as workdir, FakeSlack() as fake:
        env = child_env(
            SLACK_BOT_TOKEN="xoxb-bench-token",
            SLACK_APP_TOKEN="xapp-bench-token",
            SLACK_CHANNEL_ID=CHANNEL,
            SLACK_API_URL=fake.api_url,
            BUGTRACKER_DB=str(Path(workdir) / "bugs.db"),
        )
        bot = start_entry_point("bot", cwd=Path(workdir), env=env, stderr=subprocess.STDOUT)
        fake.wait_for(lambda: fake.connections, timeout=30)
        for n in range(burst):
            fake.post(CHANNEL, f"burst {n}: checkout broken priority=High")
        if burst:
            fake.wait_for(lambda: len(fake.acks) > 0, timeout=10)
        started = time.monotonic()
        output = stop_bot(bot, timeout=30)
        return time.monotonic() - started, "exiting now" in output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--burst", type=int, default=40)
    args = parser.parse_args(argv)
    print(f"SIGTERM -> exit, {args.tries} tries each (forced exit after {GRACE_SECONDS:.0f} s)")
    print(f"{'case':<22}{'min s':>8}{'median s':>10}{'max s':>8}{'forced':>8}")
    for case, burst in (("idle", 0), (f"after {args.burst} reports", args.burst)):
        runs = [one_stop(burst) for _ in range(args.tries)]
        seconds = [took for took, _ in runs]
        forced = sum(1 for _, was in runs if was)
        print(
            f"{case:<22}{min(seconds):>8.2f}{statistics.median(seconds):>10.2f}{max(seconds):>8.2f}"
            f"{forced:>5}/{args.tries}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
