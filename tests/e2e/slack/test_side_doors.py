"""The side doors around the readers' rule, end to end on both stores: the bot as a process (real
SocketModeHandler) on the fake Slack and the fake Shortcut. Three bug channels: a public one and a private
one with the very same members, and a public one with a guest in it.

- An outsider's `/bug link … SC-<feature>` stores nothing and learns nothing (the story is not even read);
  a reader's link to that feature (outside SHORTCUT_QUERY) answers as if it did not exist.
- A guest's `ticketId=` tag puts no ticket title into the channel.
- A private report's title never appears in the public channel, even with identical members: not as a
  suggestion, not through `public`.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.slack.test_private_channel import backend  # noqa: F401 - the both-stores fixture
from tests.fakes.shortcut import FakeShortcut
from tests.fakes.slack_server import FakeSlack
from tests.support.builders import zendesk_record
from tests.support.processes import child_env, start_entry_point, stop_bot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
PUBLIC, PRIVATE, OPEN = "C0BUGS", "G0PAY", "C0OPEN"
ALICE, CAROL, GUEST, MALLORY = "U0ALICE", "U0CAROL", "U0GUEST", "U0MALLORY"
FEATURE = "CONFIDENTIAL: the acquisition of ACME"
SUBJECT = "Refund request from the ACME CFO"
SALARIES = "Payroll export leaks every salary"


@pytest.fixture
def bot(backend, tmp_path):  # noqa: F811 - the imported fixture
    store, env, _raw = backend
    store.upsert(zendesk_record(4242, title=SUBJECT))
    members = {PUBLIC: [ALICE, CAROL], PRIVATE: [ALICE, CAROL], OPEN: [ALICE, GUEST]}
    with (
        FakeSlack(members=members, guests={GUEST: "multi"}, channel_names={PRIVATE: "payroll"}) as fake,
        FakeShortcut() as shortcut,
    ):
        shortcut.add_story(70002, story_type="feature", name=FEATURE)
        variables = dict(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_APP_TOKEN="xapp-test-token",
                         SLACK_CHANNEL_ID=f"{PUBLIC},{PRIVATE},{OPEN}", SLACK_API_URL=fake.api_url,
                         SHORTCUT_API_TOKEN=shortcut.token, SHORTCUT_API_URL=shortcut.api_url,
                         SYNC_INTERVAL_SECONDS="3600", **env)  # fmt: skip
        process = start_entry_point("bot", cwd=tmp_path, env=child_env(**variables), stderr=subprocess.STDOUT)
        try:
            fake.wait_for(lambda: fake.connections, timeout=30)
            yield fake, shortcut, store
        finally:
            output = stop_bot(process)
            assert FEATURE not in output and SUBJECT not in output, output
            assert "unexpected error" not in output and "Failed to run listener" not in output, output


def command(fake: FakeSlack, text: str, user: str, channel: str = "D0DM") -> dict:
    envelope = fake.push_command(text, user=user, channel=channel)
    fake.wait_for(lambda: envelope in fake.acks, timeout=3)
    return fake.wait_for(lambda: fake.response_to(envelope), timeout=10)


def said_in(fake: FakeSlack, channel: str) -> str:
    """Everything the bot posted or updated in a channel, as it is now."""
    return json.dumps([m for (c, _), m in fake.bot_messages.items() if c == channel])


def test_an_outsiders_link_to_a_feature_stores_nothing_and_learns_nothing(bot):
    fake, shortcut, store = bot
    message, _ = fake.post(PUBLIC, "Checkout total is wrong", ALICE)
    fake.wait_for(lambda: fake.thread_of(PUBLIC, message["ts"]))
    report = f"SL-{message['ts']}"
    outsider = command(fake, f"link {report} SC-70002", MALLORY)
    missing = command(fake, "link SL-1700000000.000001 SC-70002", MALLORY)
    assert outsider["text"].replace(report, "ID") == missing["text"].replace("SL-1700000000.000001", "ID")
    assert "not a ticket or report you can see here" in outsider["text"]
    assert shortcut.count("/stories/70002") == 0  # not even read
    feature = command(fake, f"link {report} SC-70002", ALICE)  # a reader: outside SHORTCUT_QUERY (type:bug)
    typo = command(fake, f"link {report} SC-70009", ALICE)
    assert feature["text"].replace("70002", "N") == typo["text"].replace("70009", "N")
    assert FEATURE not in json.dumps([outsider, missing, feature, typo])
    assert store.get_record("shortcut", "70002") is None
    assert store.get_record("slack", message["ts"]).location == report


def test_a_guests_tag_puts_no_ticket_title_into_the_channel(bot):
    fake, _, store = bot
    message, _ = fake.post(OPEN, "see ticketId=ZD-4242", GUEST)
    fake.wait_for(lambda: fake.thread_of(OPEN, message["ts"]))
    wait_until(lambda: store.get_record("slack", message["ts"]) is not None)
    assert store.get_record("slack", message["ts"]).location == f"SL-{message['ts']}"  # stored, not linked
    assert SUBJECT not in said_in(fake, OPEN)


def test_a_private_reports_title_never_reaches_the_public_channel_with_identical_members(bot):
    fake, _, _ = bot
    secret, _ = fake.post(PRIVATE, SALARIES, ALICE)
    fake.wait_for(lambda: fake.thread_of(PRIVATE, secret["ts"]))
    again, _ = fake.post(PRIVATE, SALARIES + " again", CAROL)  # same channel: suggested there
    fake.wait_for(lambda: fake.thread_of(PRIVATE, again["ts"]))
    assert f"SL-{secret['ts']}" in said_in(fake, PRIVATE)
    look_alike, _ = fake.post(PUBLIC, SALARIES + " too", CAROL)
    fake.wait_for(lambda: fake.thread_of(PUBLIC, look_alike["ts"]))
    public = command(fake, f"show SL-{secret['ts']} public", ALICE, channel=PUBLIC)
    assert public["response_type"] == "ephemeral" and "another bug channel" in public["text"]
    said = said_in(fake, PUBLIC)
    assert f"SL-{secret['ts']}" not in said and 'every salary"' not in said and SALARIES not in said
