"""The bot as a process, with the real SocketModeHandler, against the local fake Slack."""

import subprocess

import pytest

from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support import processes
from tests.support.processes import child_env, start_entry_point

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"


def start_bot(fake, db_path):
    env = child_env(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_APP_TOKEN="xapp-test-token",
        SLACK_CHANNEL_ID=CHANNEL,
        SLACK_API_URL=fake.api_url,
        BUGTRACKER_DB=str(db_path),
    )
    bot = start_entry_point("bot", cwd=db_path.parent, env=env, stderr=subprocess.STDOUT)
    seen = fake.connected_total
    fake.wait_for(lambda: fake.connected_total > seen and fake.connections, timeout=20)
    return bot


def stop_bot(bot):
    output = processes.stop_bot(bot)  # killed if it does not stop within the bound
    assert "xoxb-test-token" not in output and "xapp-test-token" not in output  # no secrets in logs
    return output


def test_post_show_redeliver_and_catch_up(tmp_path):
    db_path = tmp_path / "bugs.db"
    store = SqliteStore(db_path)
    with FakeSlack() as fake:
        bot = start_bot(fake, db_path)
        try:
            message, envelope = fake.post(CHANNEL, "Checkout crashes priority=High ticketId=ZD-12345")
            fake.wait_for(lambda: envelope in fake.acks)
            reply = fake.wait_for(lambda: fake.posts)[0]
            assert reply["thread_ts"] == message["ts"] and "ZD-12345" in reply["text"]
            assert store.get_record("slack", message["ts"]).ticket_id == "ZD-12345"

            command = fake.push_command("show ZD-12345")
            fake.wait_for(lambda: command in fake.acks)
            answer = fake.wait_for(lambda: fake.response_to(command))
            assert "Checkout crashes" in answer["text"] and answer["response_type"] == "ephemeral"

            event = {**message, "channel": CHANNEL}
            replayed = [fake.push_event(event, retry_attempt=n) for n in (1, 2)]
            fake.wait_for(lambda: all(envelope in fake.acks for envelope in replayed))
            second, envelope = fake.post(CHANNEL, "A later bug")  # events are handled in order of arrival
            fake.wait_for(lambda: len(fake.posts) >= 2)
            assert len(store.show("ZD-12345").records) == 1
            assert [post["thread_ts"] for post in fake.posts] == [message["ts"], second["ts"]]
        finally:
            stop_bot(bot)

        missed = fake.message(CHANNEL, "Posted while the bot was down priority=Low")  # history only
        bot = start_bot(fake, db_path)
        try:
            fake.wait_for(lambda: store.get_record("slack", missed["ts"]) is not None, timeout=15)
            fake.wait_for(lambda: any(post["thread_ts"] == missed["ts"] for post in fake.posts))
            assert store.get_record("slack", missed["ts"]).priority == "Low"
            assert len(fake.posts) == 3  # the already-stored messages were not answered again
        finally:
            output = stop_bot(bot)
    assert "mode: Slack Socket Mode" in output
