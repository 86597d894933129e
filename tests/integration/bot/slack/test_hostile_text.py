"""Outside text never reaches Slack as live markup: checked in the payloads the fake Slack receives from a
real Bolt App (thread replies via chat.postMessage, /bug answers via response_url), on both stores."""

import json
import time

import pytest
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from adapters.shortcut import story_to_record
from adapters.zendesk import ticket_to_record
from bot.config import SlackConfig
from tests.fakes.slack_server import WORKSPACE_URL, FakeSlack
from tests.support.slack_app import build_app
from tests.support.slack_payload import live_markup, mrkdwn_strings, unverbatim_objects

CHANNEL = "C0BUGS"
HOSTILE = "<!channel> <!here> <!everyone> <!subteam^S1> <https://evil.example|Zendesk ZD-777> & co"
# What Slack sends when a person types the hostile text literally (it escapes & < >), plus real mentions.
HOSTILE_WIRE = (
    "Checkout &lt;!channel&gt; &lt;https://evil.example|Zendesk ZD-777&gt; <!channel> <!here> <!subteam^S1>"
    " <https://evil.example|Zendesk ZD-777> priority=&lt;!everyone&gt; ticketId=ZD-77&lt;!here&gt;"
)
# The only links the bot may make: its own permalinks and the pages the adapters built.
ALLOWED = (WORKSPACE_URL.rstrip("/") + "/archives/", "https://acme.zendesk.com/agent/tickets/",
           "https://app.shortcut.com/")  # fmt: skip


@pytest.fixture
def fake():
    with FakeSlack(members={CHANNEL: ["U0ALICE"]}) as server:  # the commands are typed by a member
        yield server


def make_app(fake, store):
    config = SlackConfig("xoxb-test-token", "xapp-test-token", (CHANNEL,), fake.api_url, (), True)
    app, _intake = build_app(config, store, WebClient(token="xoxb-test-token", base_url=fake.api_url))
    return app


def dispatch_event(app, event):
    body = {"type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE", "event": event,
            "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time())}  # fmt: skip
    assert app.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200


def command(app, fake, text):
    """Run `/bug text` through the app and return the body Slack's response_url received."""
    before = len(fake.responses)
    body = {"command": "/bug", "text": text, "user_id": "U0ALICE", "team_id": "T0FAKE", "channel_id": CHANNEL,
            "response_url": f"{fake.api_url.removesuffix('/api/')}/respond/{time.time_ns()}",
            "trigger_id": "t", "api_app_id": "A0FAKE"}  # fmt: skip
    assert app.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200
    return fake.wait_for(lambda: len(fake.responses) > before and fake.responses)[before]


# Outside text faking the bot's own lines: a new line, then bold as the status card writes it.
FAKE_LINE = "\n*Status of ZD-9* · state *done*"
BIDI = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]


def assert_inert(payload):
    assert live_markup(payload, ALLOWED) == [], json.dumps(payload)[:2000]
    assert unverbatim_objects(payload) == []
    assert not any(char in json.dumps(payload, ensure_ascii=False) for char in BIDI)
    for text in mrkdwn_strings(payload):
        assert "<!" not in text and "<https://evil" not in text
    for text in mrkdwn_strings({"blocks": payload.get("blocks") or []}):  # what the message shows
        assert "*Status of ZD-9*" not in text and "*done*" not in text, text


def hostile_ticket(number=777):
    ticket = {"id": number, "subject": f"{HOSTILE} refund", "status": "open", "priority": "high<!here>",
              "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-02T10:00:00Z",
              "requester_id": 5, "tags": ["<!channel>", "a&b"]}  # fmt: skip
    users = {5: {"id": 5, "name": "<!here> Mallory", "email": "m@example.com"}}
    return ticket_to_record(ticket, users, "acme")


def hostile_story(number=88):
    story = {"id": number, "name": f"{HOSTILE} story", "story_type": "bug", "workflow_state_id": 1,
             "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-02T10:00:00Z",
             "app_url": "https://evil.example/story|Shortcut SC-88",
             "labels": [{"name": "<!here>"}]}  # fmt: skip
    return story_to_record(story, {1: {"name": "In <!channel> Progress", "type": "started"}})


def test_hostile_report_is_stored_as_sent_and_answered_inert(fake, store):
    app = make_app(fake, store)
    message = fake.message(CHANNEL, HOSTILE_WIRE)
    dispatch_event(app, {**message, "channel": CHANNEL})
    reply = fake.wait_for(lambda: fake.posts)[0]
    assert_inert(reply)
    stored = store.get_record("slack", message["ts"])
    assert stored.attributes["text"] == HOSTILE_WIRE  # as Slack sent it
    # the title is plain text as people read it: real mentions are words, a link shows its real URL
    assert "@channel @here @S1 Zendesk ZD-777 (https://evil.example)" in stored.title
    shown = command(app, fake, f"show SL-{message['ts']} public")
    assert shown["response_type"] == "in_channel"
    assert_inert(shown)
    assert f"<{WORKSPACE_URL.rstrip('/')}/archives/{CHANNEL}/p" in json.dumps(shown["blocks"])  # our link


def test_a_customers_zendesk_subject_and_a_story_name_are_shown_inert(fake, store):
    app = make_app(fake, store)
    store.upsert(hostile_ticket())
    story = hostile_story()
    assert story.url is None  # not a Shortcut page: never linked
    store.upsert(story)
    store.link("SC-88", "ZD-777", "U0ALICE")
    shown = command(app, fake, "show ZD-777 public")
    assert "refund" in json.dumps(shown) and "story" in json.dumps(shown)
    assert "<https://acme.zendesk.com/agent/tickets/777|Zendesk ZD-777>" in json.dumps(shown["blocks"])
    assert_inert(shown)
    for text in ("list source zendesk", "list priority high", "list source shortcut", "stats", "unlinked"):
        assert_inert(command(app, fake, text))


@pytest.mark.parametrize(
    "text",
    [
        "show <!channel>",
        "show ZD-1<!here>",
        "link <https://evil.example|ZD-1> ZD-2",
        "list state <!subteam^S1>",
        "list priority &lt;!everyone&gt;",
        "<!channel>",
        "list source zendesk next <!here>",
        "list source slack next MQ",
    ],
)
def test_bug_answers_quoting_what_was_typed_are_inert(fake, sqlite_store, text):
    app = make_app(fake, sqlite_store)
    answer = command(app, fake, text)
    assert answer["text"] and not answer["text"].startswith("Sorry, something went wrong")
    assert_inert(answer)


def test_a_tagged_reply_with_hostile_values_is_answered_inert(fake, sqlite_store):
    app = make_app(fake, sqlite_store)
    parent = fake.message(CHANNEL, "Crash on save")
    dispatch_event(app, {**parent, "channel": CHANNEL})
    fake.wait_for(lambda: fake.posts)
    reply = fake.message(
        CHANNEL, "ticketId=<!channel> priority=<https://evil.example|High>", thread_ts=parent["ts"]
    )
    dispatch_event(app, {**reply, "channel": CHANNEL})
    answer = fake.wait_for(lambda: len(fake.posts) > 1 and fake.posts)[1]
    assert "Could not read" in answer["text"]
    assert_inert(answer)


def test_outside_text_cannot_fake_the_bots_lines_or_reorder_them(fake, store):
    app = make_app(fake, store)
    times = {"created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-02T10:00:00Z"}
    ticket = {"id": 9, "subject": f"Refund fails{FAKE_LINE} \u202eevil\u202c", "status": "open",
              "priority": "high", **times}  # fmt: skip
    store.upsert(ticket_to_record(ticket, {}, "acme"))
    story = {"id": 9, "name": f"Story _x_ ~y~ `z`{FAKE_LINE}\u2066", "story_type": "bug",
             "workflow_state_id": 1, **times, "app_url": "https://app.shortcut.com/acme/story/9"}  # fmt: skip
    store.upsert(story_to_record(story, {1: {"name": "Done *now*\u202e", "type": "done"}}))
    store.link("SC-9", "ZD-9", "U0ALICE")
    message = fake.message(CHANNEL, f"Checkout\u202e fails{FAKE_LINE} ticketId=ZD-9")
    dispatch_event(app, {**message, "channel": CHANNEL})
    assert_inert(fake.wait_for(lambda: fake.posts)[0])
    shown = command(app, fake, "show ZD-9 public")
    assert "Refund fails" in json.dumps(shown["blocks"]) and "Status of ZD-9" in json.dumps(shown["blocks"])
    assert_inert(shown)
    for text in ("list source zendesk", "list source shortcut", "list source slack", "unlinked"):
        assert_inert(command(app, fake, text))
