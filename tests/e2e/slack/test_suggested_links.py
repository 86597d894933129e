"""Suggested links and the "Link to ticket…" shortcut, end to end: the bot as a process with the real
SocketModeHandler against the local fake Slack, which pushes block_actions, message_action and
view_submission envelopes and serves chat.update, views.open and conversations.replies."""

from __future__ import annotations

import copy
import subprocess

import pytest

from bot.slack.suggestion_blocks import NONE_ACTION, SHORTCUT_CALLBACK, TICKET_ACTION, TICKET_BLOCK
from storage.model import now_timestamp
from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support.builders import shortcut_record, zendesk_record
from tests.support.processes import child_env, start_entry_point, stop_bot

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"
AUTHOR, LINKER, OUTSIDER = "U0ALICE", "U0LINKER", "U0MALLORY"


@pytest.fixture
def db_path(tmp_path):
    store = SqliteStore(tmp_path / "bugs.db")
    store.init()
    now = now_timestamp()
    store.upsert(zendesk_record(41002, title="iOS app crashes when opening the shopping cart"))
    store.upsert(zendesk_record(41005, title="Export to CSV times out for large reports"))
    store.upsert(zendesk_record(41003, title="Invoice PDF shows wrong VAT amount", status="solved"))
    store.upsert(shortcut_record(7104, title="CSV export: stream rows instead of building in memory"))
    store.upsert(zendesk_record(41030, title="Slow page load on the orders list", created_at=now))
    store.close()
    return tmp_path / "bugs.db"


@pytest.fixture
def bot(db_path):
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
        process = start_entry_point("bot", cwd=db_path.parent, env=env, stderr=subprocess.STDOUT)
        try:
            fake.wait_for(lambda: fake.connections, timeout=20)
            yield fake, SqliteStore(db_path)
        finally:
            output = stop_bot(process)  # killed if it does not stop within the bound
            assert "xoxb-test-token" not in output
            assert "unexpected error" not in output and "Failed to run listener" not in output, output


def reply_to(fake, message):
    """The bot's reply in the message's thread as it is now (a copy: later updates do not change it)."""
    return copy.deepcopy(fake.wait_for(lambda: fake.thread_of(CHANNEL, message["ts"]))[0])


def buttons(reply):
    found = {}
    for block in reply.get("blocks") or []:
        for element in [block.get("accessory")] + list(block.get("elements") or []):
            if element and element.get("type") == "button":
                found[element["text"]["text"]] = element["action_id"]
    return found


def modal(fake, number):
    """The `number`-th (0-based) modal the shortcut filled: it opens "checking…" at once (views.open), then
    fills that same view (views.update) with the link form or the refusal."""
    filled = fake.wait_for(lambda: len(fake.view_updates) > number and fake.view_updates)[number]
    assert filled["view_id"] in [opened["view_id"] for opened in fake.views]
    assert "Checking" in str(next(v for v in fake.views if v["view_id"] == filled["view_id"])["view"])
    return filled


def refusal(fake, number):
    """The reason shown in the `number`-th filled modal (a refusal has no submit button)."""
    filled = modal(fake, number)
    assert "submit" not in filled["view"]
    return filled["view"]["blocks"][0]["text"]["text"]


def ephemeral(fake, envelope):
    """The one-line answer only the person sees (for a button: as a new message, the reply stays)."""
    answer = fake.wait_for(lambda: fake.response_to(envelope))
    assert answer["response_type"] == "ephemeral"
    assert answer.get("replace_original", False) is False
    return answer["text"]


def test_a_report_like_an_open_ticket_gets_buttons_and_a_linker_links_it(bot):
    fake, store = bot
    message, _ = fake.post(CHANNEL, "the iOS app crashes as soon as you open the cart priority=High", AUTHOR)
    reply = reply_to(fake, message)
    assert "Link to ZD-41002" in buttons(reply) and "None of these" in buttons(reply)
    assert f"/bug link SL-{message['ts']} ZD-41002" in reply["text"]  # notification text: the command

    refused = fake.push_block_action(CHANNEL, reply, buttons(reply)["Link to ZD-41002"], OUTSIDER)
    assert "may not link" in ephemeral(fake, refused)
    assert store.get_record("slack", message["ts"]).ticket_id == f"SL-{message['ts']}"

    pressed = fake.push_block_action(CHANNEL, reply, buttons(reply)["Link to ZD-41002"], LINKER)
    fake.wait_for(lambda: pressed in fake.acks)
    fake.wait_for(lambda: fake.updates)
    assert store.get_record("slack", message["ts"]).ticket_id == "ZD-41002"
    # the reply says who linked what, then becomes the report's status card (bot/slack/status_cards.py)
    updated = fake.wait_for(
        lambda: "Status of ZD-41002" in reply_to(fake, message)["text"] and reply_to(fake, message)
    )
    assert buttons(updated) == {}
    assert f"<@{LINKER}> linked SL-{message['ts']} to *ZD-41002*" in str(updated["blocks"])
    assert "/bug link" not in updated["text"]

    # the same (now stale) buttons pressed again: a clear answer, nothing changes
    stale = fake.push_block_action(CHANNEL, reply, buttons(reply)["Link to ZD-41002"], LINKER)
    assert f"SL-{message['ts']} is already linked to ZD-41002" in ephemeral(fake, stale)
    assert store.get_record("slack", message["ts"]).ticket_id == "ZD-41002"


def test_none_of_these_removes_the_suggestions_and_a_stale_button_says_so(bot):
    fake, store = bot
    message, _ = fake.post(CHANNEL, "CSV export of the big sales report times out", AUTHOR)
    reply = reply_to(fake, message)
    assert "Link to ZD-41005" in buttons(reply)

    refused = fake.push_block_action(CHANNEL, reply, NONE_ACTION, OUTSIDER)
    assert "may not link" in ephemeral(fake, refused)

    fake.push_block_action(CHANNEL, reply, NONE_ACTION, AUTHOR)  # the author may, without BUG_LINKERS
    fake.wait_for(lambda: fake.updates)
    updated = reply_to(fake, message)
    assert buttons(updated) == {} and "none of these" in str(updated["blocks"])
    assert store.get_record("slack", message["ts"]).ticket_id == f"SL-{message['ts']}"

    store.link(f"SL-{message['ts']}", "ZD-41030", "U0SOMEONE")  # linked elsewhere meanwhile
    stale = fake.push_block_action(CHANNEL, reply, buttons(reply)["Link to ZD-41005"], LINKER)
    assert "already linked to ZD-41030" in ephemeral(fake, stale)
    assert store.get_record("slack", message["ts"]).ticket_id == "ZD-41030"


def test_an_unrelated_report_gets_no_suggestions(bot):
    fake, _ = bot
    message, _ = fake.post(CHANNEL, "Favicon missing on the status page", AUTHOR)
    reply = reply_to(fake, message)
    assert buttons(reply) == {} and "Possibly" not in reply["text"]


def test_the_shortcut_links_a_message_never_stored_and_checks_the_id(bot):
    fake, store = bot
    message = fake.message(
        CHANNEL, "Export to CSV times out on large reports", AUTHOR
    )  # no event: not stored
    assert store.get_record("slack", message["ts"]) is None

    fake.push_message_action(CHANNEL, message, SHORTCUT_CALLBACK, OUTSIDER)
    assert "may not link" in refusal(fake, 0)
    stored = store.get_record("slack", message["ts"])  # stored first, even when the person may not link
    assert stored is not None and stored.ticket_id == f"SL-{message['ts']}"

    fake.push_message_action(CHANNEL, message, SHORTCUT_CALLBACK, LINKER)
    opened = modal(fake, 1)
    choices = [b for b in opened["view"]["blocks"] if b.get("block_id") == "suggested"]
    assert "ZD-41005" in [option["value"] for option in choices[0]["element"]["options"]]

    def submit(typed, user=LINKER):
        values = {TICKET_BLOCK: {TICKET_ACTION: {"type": "plain_text_input", "value": typed}}}
        envelope = fake.push_view_submission(opened, values, user)
        return fake.wait_for(lambda: fake.acks.get(envelope))

    bad = submit("JIRA-9")["payload"]
    assert bad["response_action"] == "errors" and "not a ticket id" in bad["errors"][TICKET_BLOCK]
    # an id no pull stored yet is fetched from its system before linking (tests/integration/bot/suggest)
    outsider = submit("ZD-41005", user=OUTSIDER)["payload"]
    assert "may not link" in outsider["errors"][TICKET_BLOCK]
    assert store.get_record("slack", message["ts"]).ticket_id == f"SL-{message['ts']}"

    closed = submit("zd-41005")
    assert not (closed.get("payload") or {}).get("errors")  # the modal closes
    fake.wait_for(lambda: store.get_record("slack", message["ts"]).ticket_id == "ZD-41005")
    note = f"<@{LINKER}> linked SL-{message['ts']} to *ZD-41005*"
    # the note edits the report's answer (queued when the shortcut stored it), which the status card
    # then replaces: it is seen in the edit, and the thread holds that one message
    fake.wait_for(lambda: any(note in (edit.get("text") or "") for edit in fake.updates))
    assert [post for post in fake.posts if note in (post.get("text") or "")] == []  # an edit, not a post
    assert len(fake.thread_of(CHANNEL, message["ts"])) == 1


def test_the_shortcut_on_a_report_with_suggestions_updates_its_reply(bot):
    fake, store = bot
    message, _ = fake.post(CHANNEL, "iOS app crashes when I open the shopping cart", AUTHOR)
    reply = reply_to(fake, message)
    assert "Link to ZD-41002" in buttons(reply)

    fake.push_message_action(CHANNEL, message, SHORTCUT_CALLBACK, AUTHOR)  # the author may link
    opened = modal(fake, 0)
    values = {"suggested": {"choice": {"type": "radio_buttons", "selected_option": {"value": "ZD-41002"}}}}
    fake.push_view_submission(opened, values, AUTHOR)
    fake.wait_for(lambda: fake.updates)
    assert store.get_record("slack", message["ts"]).ticket_id == "ZD-41002"
    updated = reply_to(fake, message)
    assert buttons(updated) == {} and f"<@{AUTHOR}> linked" in updated["text"]
    assert len(fake.thread_of(CHANNEL, message["ts"])) == 1  # updated, not a second reply

    fake.push_message_action(CHANNEL, message, SHORTCUT_CALLBACK, LINKER)
    assert "already linked to ZD-41002" in refusal(fake, 1)


def test_the_shortcut_on_a_thread_reply_links_its_report_and_refuses_what_is_no_report(bot):
    fake, store = bot
    report, _ = fake.post(CHANNEL, "Slow page load on the orders list again", AUTHOR)
    reply_to(fake, report)
    in_thread = fake.message(CHANNEL, "same for me", "U0BOB", thread_ts=report["ts"])
    fake.push_message_action(CHANNEL, in_thread, SHORTCUT_CALLBACK, LINKER)
    opened = modal(fake, 0)
    assert f"SL-{report['ts']}" in opened["view"]["private_metadata"]  # the thread's report, not the reply

    bot_message = {"type": "message", "subtype": "bot_message", "bot_id": "B0OTHER", "text": "deploy done",
                   "ts": fake.next_ts()}  # fmt: skip
    fake.push_message_action(CHANNEL, bot_message, SHORTCUT_CALLBACK, LINKER)
    assert "a person's message" in refusal(fake, 1)
    elsewhere = fake.push_message_action(
        "C0OTHER", {**report, "ts": fake.next_ts()}, SHORTCUT_CALLBACK, LINKER
    )
    assert "bug channel" in ephemeral(fake, elsewhere)
    assert len(fake.views) == 2  # no modal outside the bug channel
