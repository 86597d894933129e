"""Impact end to end: the bot as a process (real SocketModeHandler) against the fake Slack. Three reports and
two Zendesk tickets linked to a story put it first in `/bug top` and on App Home with "3 reports · 2 tickets",
and a member of another channel does not see those reports counted."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace

import pytest

from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support.builders import shortcut_record, zendesk_record
from tests.support.processes import child_env, start_entry_point, stop_bot

pytestmark = pytest.mark.slow
CHANNEL, PRIVATE = "C0BUGS", "C0PRIV"
REPORTERS = ("U0ALICE", "U0BOB", "U0CAROL")
STRANGER = "U0DAVE"  # reads only the other bug channel


def ticket(n: int, requester: str):
    record = zendesk_record(n, title=f"Customer says checkout fails ({n})")
    return replace(record, attributes={**record.attributes, "requester": requester})


@pytest.fixture
def bot(tmp_path):
    db_path = tmp_path / "bugs.db"
    store = SqliteStore(db_path)
    store.init()
    store.upsert(shortcut_record(7104, title="Checkout fails on Safari"))
    store.upsert(shortcut_record(7200, title="Slow export"))
    store.upsert_many(
        [ticket(41002, "ann@example.com"), ticket(41005, "ben@example.com"), ticket(41009, "x@y.z")]
    )
    store.link("ZD-41002", "SC-7104", actor="seed")
    store.link("ZD-41005", "SC-7104", actor="seed")
    store.link("ZD-41009", "SC-7200", actor="seed")
    members = {CHANNEL: list(REPORTERS), PRIVATE: [STRANGER]}
    with FakeSlack(members=members) as fake:
        env = child_env(
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_APP_TOKEN="xapp-test-token",
            SLACK_CHANNEL_ID=f"{CHANNEL},{PRIVATE}",
            SLACK_API_URL=fake.api_url,
            BUGTRACKER_DB=str(db_path),
        )
        process = start_entry_point("bot", cwd=tmp_path, env=env, stderr=subprocess.STDOUT)
        try:
            fake.wait_for(lambda: fake.connections, timeout=20)
            yield fake, store
        finally:
            output = stop_bot(process)  # killed if it does not stop within the bound
            assert "Traceback" not in output and "unexpected error" not in output, output


def test_three_reports_and_two_tickets_put_the_story_first_in_top_and_on_app_home(bot):
    fake, store = bot
    for number, author in enumerate(REPORTERS, start=1):
        message, _ = fake.post(CHANNEL, f"checkout fails for me too ({number}) ticketId=SC-7104", author)
        fake.wait_for(lambda message=message: fake.thread_of(CHANNEL, message["ts"]))
    fake.wait_for(
        lambda: (
            (store.get_impacts(["SC-7104"])["SC-7104"] or None)
            and store.get_impacts(["SC-7104"])["SC-7104"].visible().reports == 3
        )
    )

    command = fake.push_command("top", user="U0ALICE")
    answer = fake.wait_for(lambda: fake.response_to(command))
    rows = [block["text"]["text"] for block in answer["blocks"] if block["type"] == "section"][1:]
    assert "SC-7104" in rows[0] and "3 reports · 2 tickets · 5 people" in rows[0]
    assert "SC-7200" in rows[1] and "Checkout fails on Safari" in rows[0]

    before = len(fake.publishes)
    envelope = fake.push_app_home_opened("U0BOB")
    fake.wait_for(lambda: envelope in fake.acks)
    fake.wait_for(lambda: len(fake.publishes) > before)
    home = json.dumps(fake.published["U0BOB"]["blocks"], ensure_ascii=False)
    hurts = home.split("Hurts most", 1)[1]
    assert hurts.index("SC-7104") < hurts.index("SC-7200") and "3 reports · 2 tickets" in hurts

    command = fake.push_command("top", user=STRANGER, channel=PRIVATE)
    theirs = json.dumps(fake.wait_for(lambda: fake.response_to(command))["blocks"], ensure_ascii=False)
    assert "SC-7104" in theirs and "3 reports" not in theirs  # the reports of a channel they do not read
    assert "2 tickets · 2 people" in theirs
