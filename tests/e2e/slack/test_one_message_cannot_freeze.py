"""The bot as a process (real SocketModeHandler) on the fake Slack, both stores: a 40,000-`*` message (which
froze the process for about a minute when the tag regex backtracked) is stored, and a normal report posted
right after it is stored and answered within 3 seconds."""

from __future__ import annotations

import subprocess
import time

import pytest

from storage.dynamodb import DynamoDBStore
from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support.processes import child_env, start_entry_point
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"


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


def test_a_normal_report_right_after_40000_stars_is_answered_within_3_s(backend, tmp_path):
    store, store_env = backend
    env = child_env(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_APP_TOKEN="xapp-test-token",
                    SLACK_CHANNEL_ID=CHANNEL, SLACK_STATUS_UPDATES="off", **store_env)  # fmt: skip
    with FakeSlack() as fake:
        bot = start_entry_point("bot", cwd=tmp_path, env={**env, "SLACK_API_URL": fake.api_url},
                                stderr=subprocess.STDOUT)  # fmt: skip
        try:
            fake.wait_for(lambda: fake.connections, timeout=30)
            stars, _ = fake.post(CHANNEL, "*" * 40_000)
            posted = time.monotonic()
            report, _ = fake.post(CHANNEL, "Checkout button does nothing priority=High")
            fake.wait_for(lambda: any(p.get("thread_ts") == report["ts"] for p in fake.posts), timeout=30)
            answered = time.monotonic() - posted
            wait_until(lambda: store.get_record("slack", stars["ts"]), timeout=10)
        finally:
            bot.terminate()
            output, _ = bot.communicate(timeout=20)
    assert "Traceback" not in output
    assert answered <= 3, f"the report was answered {answered:.1f} s after it was posted"
    assert store.get_record("slack", report["ts"]).priority == "High"
    assert store.get_record("slack", stars["ts"]).attributes["text_truncated"] is True
