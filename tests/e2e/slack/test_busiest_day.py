"""The busiest day, end to end: the bot as a process (real SocketModeHandler) on the fake Slack. Thirty
reports arrive at once; `/bug help` and the "Link to ticket…" message shortcut right behind them are still
acked within Slack's 3 seconds (the fake records when each envelope went out and when its ack came back:
Slack's protocol deadline, not a speed target), the modal opens (the fake refuses a trigger_id older than
3 s, as Slack does), and every report is stored and answered exactly once while the answers drain at
Slack's pace."""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from bot.slack.suggestion_blocks import SHORTCUT_CALLBACK
from bot.slack.watermark import key
from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support.processes import child_env, start_entry_point, stop_bot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"
SLACK_DEADLINE = 3.0  # seconds Slack waits for an ack, and for a trigger_id to be used


def test_thirty_reports_at_once_then_a_command_and_a_shortcut_are_acked_in_time(tmp_path):
    db_path = tmp_path / "bugs.db"
    store = SqliteStore(db_path)
    with FakeSlack(members={CHANNEL: ["U0ALICE"]}) as fake:
        env = child_env(
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_APP_TOKEN="xapp-test-token",
            SLACK_CHANNEL_ID=CHANNEL,
            SLACK_API_URL=fake.api_url,
            BUGTRACKER_DB=str(db_path),
        )
        log = (tmp_path / "bot.log").open("a")
        bot = start_entry_point("bot", cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            fake.wait_for(lambda: fake.connections, timeout=30)
            assert fake.calls.count("apps.connections.open") == 1  # once a start: the URL checked is used
            wait_until(lambda: (store.get_meta(key(CHANNEL)) or {}).get("start"), timeout=30, interval=0.1)
            reports = [fake.post(CHANNEL, f"Checkout is down ({n})", "U0ALICE")[0] for n in range(30)]
            command = fake.push_command("help")
            shortcut = fake.push_message_action(CHANNEL, reports[0], SHORTCUT_CALLBACK, "U0ALICE")

            fake.wait_for(lambda: command in fake.acks and shortcut in fake.acks, timeout=20)
            assert fake.ack_seconds(command) < SLACK_DEADLINE
            assert fake.ack_seconds(shortcut) < SLACK_DEADLINE
            assert "/bug" in fake.wait_for(lambda: fake.response_to(command), timeout=20)["text"]
            fake.wait_for(lambda: fake.views, timeout=20)  # views.open took the trigger before it expired

            sent = {report["ts"] for report in reports}
            wait_until(lambda: all(store.get_record("slack", ts) for ts in sent), timeout=30, interval=0.1)
            answered = lambda: Counter(p.get("thread_ts") for p in fake.posts if p.get("thread_ts") in sent)  # noqa: E731
            wait_until(lambda: set(answered()) == sent, timeout=240, interval=0.2)  # ~30 s at Slack's pace
            assert max(answered().values()) == 1  # each report answered once
        finally:
            stop_bot(bot, timeout=30)  # killed if it does not stop within the bound
    output = (tmp_path / "bot.log").read_text()
    assert "didn't call ack()" not in output and "xoxb-test-token" not in output
