"""The bot as a process (real SocketModeHandler) on the fake Slack, both stores: a 40,000-`*` message (which
froze the process for about a minute when the tag regex backtracked) is stored, and a normal report posted
right after it is stored and answered, the bot having spent under 3 CPU-seconds on both.

CPU time, not wall time: the backtracking spent CPU (36 s of it), and the process's own CPU time hardly moves
when other processes load the machine, while its answer's latency does."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from storage.dynamodb import DynamoDBStore
from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support.processes import child_env, start_entry_point, stop_bot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(params=["sqlite", "dynamodb"])
def backend(request, tmp_path):
    """(store as the test reads it, env for the bot)."""
    if request.param == "sqlite":
        store = SqliteStore(tmp_path / "bugs.db")
        store.init()
        return store, {"BUGTRACKER_DB": str(store.path)}
    import boto3

    env = request.getfixturevalue("moto_endpoint_env")
    client = boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"], region_name="us-east-1")
    store = DynamoDBStore(client, env["DYNAMODB_TABLE"])
    store.init()
    return store, {k: env[k] for k in ("AWS_ENDPOINT_URL_DYNAMODB", "DYNAMODB_TABLE")}


def test_a_normal_report_right_after_40000_stars_costs_under_3_cpu_seconds(backend, tmp_path):
    store, store_env = backend
    env = child_env(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_APP_TOKEN="xapp-test-token",
                    SLACK_CHANNEL_ID=CHANNEL, SLACK_STATUS_UPDATES="off", **store_env)  # fmt: skip
    with FakeSlack() as fake:
        bot = start_entry_point("bot", cwd=tmp_path, env={**env, "SLACK_API_URL": fake.api_url},
                                stderr=subprocess.STDOUT)  # fmt: skip
        try:
            fake.wait_for(lambda: fake.connections, timeout=30)
            before = cpu_seconds(bot.pid)
            stars, _ = fake.post(CHANNEL, "*" * 40_000)
            report, _ = fake.post(CHANNEL, "Checkout button does nothing priority=High")
            fake.wait_for(lambda: any(p.get("thread_ts") == report["ts"] for p in fake.posts), timeout=120)
            wait_until(lambda: store.get_record("slack", stars["ts"]))
            fake.wait_for(lambda: any(p.get("thread_ts") == stars["ts"] for p in fake.posts))  # both done
            spent = cpu_seconds(bot.pid) - before
        finally:
            output = stop_bot(bot)  # killed if it does not stop within the bound
    assert "Traceback" not in output
    assert spent <= 3, f"the bot spent {spent:.1f} CPU-seconds on the two messages"
    assert store.get_record("slack", report["ts"]).priority == "High"
    assert store.get_record("slack", stars["ts"]).attributes["text_truncated"] is True
