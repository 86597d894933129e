"""The daily digest end to end: two bot processes on one store with the digest due (BUG_DIGEST_AT in the
past for today) post it exactly once in each bug channel, through the fake Slack."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support import processes
from tests.support.builders import shortcut_record, zendesk_record
from tests.support.processes import child_env, start_entry_point

pytestmark = pytest.mark.slow
CHANNELS = ("C0BUGS", "C0MORE")


def start_bot(slack: FakeSlack, db_path: Path) -> subprocess.Popen:
    env = child_env(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_APP_TOKEN="xapp-test-token",
        SLACK_CHANNEL_ID=",".join(CHANNELS),
        SLACK_API_URL=slack.api_url,
        BUGTRACKER_DB=str(db_path),
        BUG_DIGEST_AT="00:00",  # due at once, whatever the time of day the test runs
        BUG_DIGEST_TZ="Europe/Berlin",
    )
    return start_entry_point("bot", cwd=db_path.parent, env=env, stderr=subprocess.STDOUT)


def digests(slack: FakeSlack) -> list[dict]:
    return [post for post in slack.posts if "Daily bug digest" in str(post.get("text"))]


def test_two_instances_post_the_digest_once_per_channel(tmp_path):
    db_path = tmp_path / "bugs.db"
    store = SqliteStore(db_path)
    store.init()
    store.upsert(shortcut_record(7104, title="Checkout fails on Safari"))
    ticket = zendesk_record(41002)
    store.upsert(replace(ticket, attributes={**ticket.attributes, "requester": "ann@example.com"}))
    store.link("ZD-41002", "SC-7104", actor="seed")
    members = {channel: ["U0ALICE"] for channel in CHANNELS}
    with FakeSlack(members=members) as slack:
        bots = [start_bot(slack, db_path) for _ in range(2)]
        try:
            slack.wait_for(lambda: len(slack.connections) >= 2, timeout=30)
            slack.wait_for(lambda: len(digests(slack)) >= len(CHANNELS), timeout=60)
            slack.wait_for(lambda: all(store.get_meta(f"digest:{c}") for c in CHANNELS), timeout=30)
            # each instance looks at once when it starts (both connected: both started their worker);
            # the one that did not post found the claim held or the day recorded
            outputs = [processes.stop_bot(bot) for bot in bots]
        finally:
            for bot in bots:
                if bot.poll() is None:
                    bot.kill()
                    bot.communicate()
    posted = digests(slack)
    assert sorted(post["channel"] for post in posted) == sorted(CHANNELS)
    assert all("SC-7104" in str(post["blocks"]) for post in posted)
    assert all("Traceback" not in output for output in outputs), outputs
