"""`/bug show … public` at any channel size, end to end: the bot as a process (real SocketModeHandler) on the
fake Slack, a bug channel of 400 members. The answer comes from the guest / outsider map read in the
background (users.list, paged), not from one users.info per member; once a person of another organisation
joins, `public` posts nothing and says why."""

from __future__ import annotations

import subprocess

import pytest

from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support.builders import zendesk_record
from tests.support.processes import child_env, start_entry_point, stop_bot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"
ASKER, PARTNER = "U0ALICE", "U0PARTNER"
CROWD = [ASKER, *(f"U0M{n:04d}" for n in range(399))]
TITLE = "Refund request from the CFO"


@pytest.fixture
def bot(tmp_path):
    path = tmp_path / "bugs.db"
    store = SqliteStore(path)
    store.init()
    store.upsert(zendesk_record(4242, title=TITLE))
    with FakeSlack(members={CHANNEL: list(CROWD)}, teams={PARTNER: "T0ACME"}) as fake:
        fake.members["C0LOBBY"] = [PARTNER]  # listed by users.list (another team), not in the bug channel yet
        variables = dict(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_APP_TOKEN="xapp-test-token",
                         SLACK_CHANNEL_ID=CHANNEL, SLACK_API_URL=fake.api_url,
                         BUGTRACKER_DB=str(path))  # fmt: skip
        process = start_entry_point("bot", cwd=tmp_path, env=child_env(**variables), stderr=subprocess.STDOUT)
        try:
            fake.wait_for(lambda: fake.connections, timeout=30)
            yield fake
        finally:
            output = stop_bot(process)
            assert "unexpected error" not in output and "Failed to run listener" not in output, output


def public(fake: FakeSlack) -> dict:
    """`/bug show ZD-4242 public` typed in the bug channel: its answer, within 15 s."""
    envelope = fake.push_command("show ZD-4242 public", user=ASKER, channel=CHANNEL)
    fake.wait_for(lambda: envelope in fake.acks, timeout=3)
    return fake.wait_for(lambda: fake.response_to(envelope), timeout=15)


def test_public_in_a_400_member_channel_and_then_with_someone_from_another_organisation(bot):
    fake = bot
    wait_until(lambda: fake.calls.count("users.list") >= 3, timeout=30)  # 401 users: 3 pages of 200
    answer = wait_until(lambda: (got := public(fake)) and "still reading" not in got["text"] and got, 30)
    assert answer["response_type"] == "in_channel" and TITLE in str(answer)
    assert fake.calls.count("users.info") <= 20

    fake.join(CHANNEL, PARTNER)  # member_joined_channel is pushed
    refused = wait_until(lambda: (got := public(fake)) and got["response_type"] == "ephemeral" and got, 15)
    assert "another organisation" in refused["text"]
    assert not any(TITLE in str(post) for post in fake.posts)  # nothing posted into the channel
    assert fake.calls.count("users.info") <= 20
