"""Progress in the thread, end to end: the bot as a process (real SocketModeHandler, real zenpy) between the
local fake Slack and the local fake Zendesk. A ticket's status change upstream reaches the linked report's
thread after the next scheduled pull, once; a pull that changes nothing posts nothing; a restart repeats
nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.slack.status_board import PENDING_KEY
from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.fakes.zendesk import FakeZendesk
from tests.support import processes
from tests.support.processes import child_env, start_entry_point
from tests.support.slack_payload import mrkdwn_strings

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"
INTERVAL = 10  # SYNC_INTERVAL_SECONDS, its smallest allowed value


def start_bot(slack: FakeSlack, zendesk: FakeZendesk, db_path: Path, **extra: str) -> subprocess.Popen:
    env = child_env(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_APP_TOKEN="xapp-test-token",
        SLACK_CHANNEL_ID=CHANNEL,
        SLACK_API_URL=slack.api_url,
        BUGTRACKER_DB=str(db_path),
        ZENDESK_SUBDOMAIN=zendesk.subdomain,
        ZENDESK_EMAIL=zendesk.email,
        ZENDESK_API_TOKEN=zendesk.token,
        ZENPY_FORCE_SCHEME="http",
        ZENPY_FORCE_NETLOC=zendesk.netloc,
        SYNC_INTERVAL_SECONDS=str(INTERVAL),
        **extra,
    )
    seen = slack.connected_total
    bot = start_entry_point("bot", cwd=db_path.parent, env=env, stderr=subprocess.STDOUT)
    slack.wait_for(lambda: slack.connected_total > seen and slack.connections, timeout=20)
    return bot


def stop_bot(bot: subprocess.Popen) -> str:
    output = processes.stop_bot(bot)  # killed if it does not stop within the bound
    assert "xoxb-test-token" not in output and "zd-test-token" not in output
    assert "Traceback" not in output, output
    return output


def wait_for_pulls(zendesk: FakeZendesk, slack: FakeSlack, store: SqliteStore, count: int) -> None:
    """Until `count` more export requests were answered, the pull that made the last one has ended (its
    lease is free: it wrote its page and noted what changed) and the board has announced everything it
    noted (nothing pending). Conditions, not a pause: then whatever the pulls caused has been posted."""
    start = zendesk.count("incremental")
    slack.wait_for(lambda: zendesk.count("incremental") >= start + count, timeout=INTERVAL * count + 30)
    slack.wait_for(lambda: store.lease_holder("sync:zendesk") is None)
    slack.wait_for(lambda: not (store.get_meta(PENDING_KEY) or {}).get("tickets"))


def at_least(count: int, messages: list[dict]) -> list[dict] | None:
    return messages if len(messages) >= count else None


def thread_messages(slack: FakeSlack, report_ts: str) -> list[dict]:
    return slack.thread_of(CHANNEL, report_ts)


def test_a_status_change_reaches_the_thread_once_and_a_no_op_pull_posts_nothing(tmp_path):
    db_path = tmp_path / "bugs.db"
    store = SqliteStore(db_path)
    with FakeSlack() as slack, FakeZendesk() as zendesk:
        zendesk.add_ticket(123, status="open", priority="high", subject="Checkout <!channel> crash")
        bot = start_bot(slack, zendesk, db_path)
        try:
            slack.wait_for(lambda: store.get_record("zendesk", "123") is not None, timeout=20)
            report, _ = slack.post(CHANNEL, "Checkout crashes on iOS ticketId=ZD-123 priority=High")
            # the first reply is posted, then becomes the status card (chat.update), nothing else
            card = slack.wait_for(lambda: slack.updates and slack.updates[-1])
            first = thread_messages(slack, report["ts"])
            assert len(first) == 1 and first[0]["ts"] == card["ts"]
            assert "Status of ZD-123" in first[0]["text"] and "open" in first[0]["text"]
            # outside text is plain_text (never parsed) or escaped: no live ping anywhere
            assert not any("<!channel>" in text for text in mrkdwn_strings(first[0]))
            posts_before, updates_before = len(slack.posts), len(slack.updates)

            zendesk.touch(123, status="solved")
            slack.wait_for(lambda: len(slack.updates) > updates_before, timeout=INTERVAL + 15)
            thread = slack.wait_for(lambda: at_least(2, thread_messages(slack, report["ts"])))  # paced notice
            assert len(thread) == 2  # the card, and one notice of the new state type
            assert "solved" in thread[0]["text"] and "Status of ZD-123" in thread[0]["text"]
            assert "ZD-123 (Zendesk) is now done: solved" in thread[1]["text"]
            assert len(slack.posts) == posts_before + 1 and len(slack.updates) == updates_before + 1

            settled = (len(slack.posts), len(slack.updates))
            wait_for_pulls(zendesk, slack, store, 1)  # a pull that changes nothing
            assert (len(slack.posts), len(slack.updates)) == settled
        finally:
            stop_bot(bot)

        bot = start_bot(slack, zendesk, db_path)  # a restart: pending work flushed, nothing repeated
        try:
            wait_for_pulls(zendesk, slack, store, 1)
            assert (len(slack.posts), len(slack.updates)) == settled
            assert store.get_meta("status:pending") == {"tickets": []}
        finally:
            stop_bot(bot)


def test_status_updates_off_posts_no_card(tmp_path):
    db_path = tmp_path / "bugs.db"
    with FakeSlack() as slack, FakeZendesk() as zendesk:
        zendesk.add_ticket(7, status="open")
        bot = start_bot(slack, zendesk, db_path, SLACK_STATUS_UPDATES="off")
        store = SqliteStore(db_path)
        try:
            slack.wait_for(lambda: store.get_record("zendesk", "7") is not None, timeout=20)
            report, _ = slack.post(CHANNEL, "Export broken ticketId=ZD-7")
            slack.wait_for(lambda: slack.posts)
            zendesk.touch(7, status="solved")
            wait_for_pulls(zendesk, slack, store, 1)
            assert len(thread_messages(slack, report["ts"])) == 1 and not slack.updates
        finally:
            stop_bot(bot)
