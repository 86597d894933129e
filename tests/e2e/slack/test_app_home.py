"""The App Home tab, end to end: the bot as a process (real SocketModeHandler) against the fake Slack, which
pushes app_home_opened and button presses in the Home view and serves views.publish."""

from __future__ import annotations

import subprocess

import pytest

from bot.slack.home_blocks import HOME_LINK_PREFIX
from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support.builders import shortcut_record, zendesk_record
from tests.support.processes import child_env, start_entry_point, stop_bot

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"
AUTHOR, LINKER, OUTSIDER = "U0ALICE", "U0LINKER", "U0MALLORY"


@pytest.fixture
def bot(tmp_path):
    db_path = tmp_path / "bugs.db"
    store = SqliteStore(db_path)
    store.init()
    store.upsert(zendesk_record(41002, title="iOS app crashes when opening the shopping cart <!here>"))
    store.upsert(zendesk_record(41005, title="Export to CSV times out", priority="Low"))
    store.upsert(shortcut_record(7104, title="CSV export: stream rows"))
    # OUTSIDER is in the bug channel (sees its reports) but not in BUG_LINKERS
    with FakeSlack(members={CHANNEL: [OUTSIDER]}) as fake:
        env = child_env(
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_APP_TOKEN="xapp-test-token",
            SLACK_CHANNEL_ID=CHANNEL,
            SLACK_API_URL=fake.api_url,
            BUGTRACKER_DB=str(db_path),
            BUG_LINKERS=LINKER,
        )
        process = start_entry_point("bot", cwd=tmp_path, env=env, stderr=subprocess.STDOUT)
        try:
            fake.wait_for(lambda: fake.connections, timeout=20)
            yield fake, store
        finally:
            output = stop_bot(process)  # killed if it does not stop within the bound
            assert "xoxb-test-token" not in output
            assert "unexpected error" not in output and "Failed to run listener" not in output, output


def open_home(fake: FakeSlack, user: str) -> dict:
    before = len(fake.publishes)
    envelope = fake.push_app_home_opened(user)
    fake.wait_for(lambda: envelope in fake.acks)
    fake.wait_for(lambda: len(fake.publishes) > before)
    return fake.published[user]


def press(fake: FakeSlack, user: str, action_id: str, view: dict | None = None) -> dict:
    before = len(fake.publishes)
    envelope = fake.push_view_action(user, action_id, view)
    fake.wait_for(lambda: envelope in fake.acks, timeout=3)  # acked within Slack's 3 s
    fake.wait_for(lambda: len(fake.publishes) > before)
    return fake.published[user]


def text_of(view: dict) -> str:
    return str(view["blocks"])


def link_button(view: dict, target: str) -> str:
    for block in view["blocks"]:
        for element in block.get("elements") or []:
            if element.get("action_id", "").startswith(HOME_LINK_PREFIX) and element["value"].endswith(
                target
            ):
                return element["action_id"]
    raise AssertionError(f"no Link to {target} button in the Home view")


def test_the_home_tab_shows_counts_unlinked_reports_and_yours_and_links_with_permission(bot):
    fake, store = bot
    message, _ = fake.post(CHANNEL, "the iOS app crashes as soon as you open the cart priority=High", AUTHOR)
    fake.wait_for(lambda: fake.thread_of(CHANNEL, message["ts"]))
    report_id = f"SL-{message['ts']}"

    home = open_home(fake, AUTHOR)
    text = text_of(home)
    assert home["type"] == "home" and len(home["blocks"]) <= 100
    assert (
        "Open bugs" in text
        and "High *2* · Low *1* · no priority *1*" in text
        and "Zendesk *2*" in text
        and "Slack report *1*" in text
    )
    assert report_id in text and "Link to ZD-41002" in text
    assert "<!here>" not in text and "&lt;!here&gt;" in text  # outside text escaped
    assert "Your reports" in text and "not linked to a ticket yet" in text

    outsider_home = open_home(fake, OUTSIDER)
    refused = press(fake, OUTSIDER, link_button(outsider_home, "ZD-41002"))
    assert "Not linked: you may not link reports" in text_of(refused)
    assert store.get_record("slack", message["ts"]).ticket_id == report_id

    linker_home = open_home(fake, LINKER)
    linked = press(fake, LINKER, link_button(linker_home, "ZD-41002"))
    assert f"You linked {report_id} to *ZD-41002*" in text_of(linked)
    assert store.get_record("slack", message["ts"]).ticket_id == "ZD-41002"
    card = fake.wait_for(
        lambda: [m for m in fake.thread_of(CHANNEL, message["ts"]) if "Status of" in m["text"]]
    )
    assert "ZD-41002" in card[0]["text"]

    stale = press(fake, LINKER, link_button(linker_home, "ZD-41002"), view=linker_home)  # an old tab
    assert "already linked to *ZD-41002*; nothing changed" in text_of(stale)

    mine = text_of(open_home(fake, AUTHOR))
    assert f"*{report_id}* → *ZD-41002*" in mine and "Zendesk ZD-41002: *open*" in mine
    assert report_id not in mine.split("Your reports")[0]  # no longer among the unlinked
