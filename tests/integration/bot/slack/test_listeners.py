"""Listeners through a real Bolt App (app.dispatch(BoltRequest)) with a real WebClient on the fake Slack."""

import json
import time

import pytest
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.config import SlackConfig
from tests.fakes.slack_server import FakeSlack
from tests.support.slack_app import build_app, settle, shortcut_request
from tests.support.waiting import wait_until

CHANNEL = "C0BUGS"


@pytest.fixture
def fake():
    with FakeSlack(groups={"S0LINKERS": ["U0BOSS"]}, members={CHANNEL: ["U0ALICE", "U0CAROL"]}) as server:
        yield server


def make_app(fake, store, linkers=()):
    config = SlackConfig("xoxb-test-token", "xapp-test-token", (CHANNEL,), fake.api_url, linkers, True)
    app, _intake = build_app(config, store, WebClient(token="xoxb-test-token", base_url=fake.api_url))
    return app


def event_request(event):
    body = {"type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE", "event": event,
            "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time())}  # fmt: skip
    return BoltRequest(body=body, mode="socket_mode")


def command_request(text, user="U0ALICE", fake=None):
    body = {"command": "/bug", "text": text, "user_id": user, "team_id": "T0FAKE", "channel_id": CHANNEL,
            "response_url": f"{fake.api_url.removesuffix('/api/')}/respond/{time.time_ns()}",
            "trigger_id": "t", "api_app_id": "A0FAKE"}  # fmt: skip
    return BoltRequest(body=body, mode="socket_mode")


def post(app, fake, text, user="U0ALICE", **extra):
    message = fake.message(CHANNEL, text, user, **extra)
    response = app.dispatch(event_request({**message, "channel": CHANNEL}))
    assert response.status == 200
    return message


def test_message_is_stored_then_answered_in_its_thread(fake, sqlite_store):
    app = make_app(fake, sqlite_store)
    message = post(app, fake, "Login broken priority=urgent ticketId=ZD-12345")
    reply = fake.wait_for(lambda: fake.posts)[0]
    assert (
        reply["thread_ts"] == message["ts"] and "*ZD-12345*" in reply["text"] and "Critical" in reply["text"]
    )
    stored = sqlite_store.get_record("slack", message["ts"])
    assert stored.ticket_id == "ZD-12345" and stored.url.endswith(message["ts"].replace(".", ""))


def test_redelivered_event_leaves_one_record_and_one_reply(fake, sqlite_store):
    app = make_app(fake, sqlite_store)
    message = fake.message(CHANNEL, "Crash on save")
    for _ in range(3):
        app.dispatch(event_request({**message, "channel": CHANNEL}))
    settle(app)  # a late duplicate reply would be posted by now
    assert len(fake.posts) == 1
    assert sqlite_store.counts().by_source == {"slack": 1}


def test_a_shortcut_that_stores_the_report_before_its_event_leaves_it_answered_once(fake, sqlite_store):
    # a burst: "Link to ticket…" used on a message whose own event is still queued behind others. The
    # shortcut's insert is the one that stores the report, so the answer is that insert's; the event, when
    # it comes, finds the report stored and earns none.
    app = make_app(fake, sqlite_store)
    message = fake.message(CHANNEL, "Checkout is down")
    app.dispatch(shortcut_request(fake, message, CHANNEL))
    wait_until(lambda: sqlite_store.get_record("slack", message["ts"]) is not None)
    app.dispatch(event_request({**message, "channel": CHANNEL}))
    settle(app)
    assert [post["thread_ts"] for post in fake.posts] == [message["ts"]]


def test_noise_and_other_channels_are_ignored(fake, sqlite_store):
    app = make_app(fake, sqlite_store)
    post(app, fake, "joined", subtype="channel_join")
    post(app, fake, "I am a bot", bot_id="B1")
    app.dispatch(
        event_request({"type": "message", "user": "U1", "text": "x", "ts": "1732712345.1", "channel": "C9"})
    )
    settle(app)
    assert sqlite_store.counts().deleted + sqlite_store.counts().total == 0 and fake.posts == []


def test_edit_and_delete(fake, sqlite_store):
    app = make_app(fake, sqlite_store)
    message = post(app, fake, "Crash")
    fake.wait_for(lambda: sqlite_store.get_record("slack", message["ts"]))
    edited = {
        **message,
        "text": "Crash on save priority=Low",
        "edited": {"user": "U0ALICE", "ts": fake.next_ts()},
    }
    app.dispatch(
        event_request(
            {
                "type": "message",
                "subtype": "message_changed",
                "channel": CHANNEL,
                "ts": fake.next_ts(),
                "message": edited,
                "previous_message": message,
            }
        )
    )
    fake.wait_for(lambda: sqlite_store.get_record("slack", message["ts"]).priority == "Low")
    app.dispatch(
        event_request(
            {
                "type": "message",
                "subtype": "message_deleted",
                "channel": CHANNEL,
                "ts": fake.next_ts(),
                "deleted_ts": message["ts"],
            }
        )
    )
    fake.wait_for(lambda: sqlite_store.get_record("slack", message["ts"]).deleted)


def test_bug_show_is_acked_and_answered_ephemeral_with_blocks(fake, sqlite_store):
    app = make_app(fake, sqlite_store)
    message = post(app, fake, "Login broken ticketId=ZD-7")
    fake.wait_for(lambda: fake.posts)
    response = app.dispatch(command_request("show ZD-7", fake=fake))
    assert response.status == 200
    answer = fake.wait_for(lambda: fake.responses)[0]
    assert answer["response_type"] == "ephemeral" and answer["blocks"][0]["text"]["text"] == "ZD-7"
    assert message["ts"] in json.dumps(answer["blocks"])


def test_link_refused_for_non_linkers_and_allowed_for_group_members(fake, sqlite_store):
    app = make_app(fake, sqlite_store, linkers=("U0ADMIN", "S0LINKERS"))
    message = post(app, fake, "Crash")
    fake.wait_for(lambda: sqlite_store.get_record("slack", message["ts"]))
    # Carol reads the report but is neither in BUG_LINKERS nor its author
    app.dispatch(command_request(f"link SL-{message['ts']} ZD-1", user="U0CAROL", fake=fake))
    assert "may not link" in fake.wait_for(lambda: fake.responses)[0]["text"]
    app.dispatch(command_request(f"link SL-{message['ts']} ZD-1", user="U0BOSS", fake=fake))
    assert "moved 1 record" in fake.wait_for(lambda: len(fake.responses) == 2 and fake.responses)[1]["text"]
    assert "usergroups.users.list" in fake.calls


def test_unexpected_error_goes_to_the_one_handler_and_the_user_sees_one_line(fake, sqlite_store, monkeypatch):
    from bot.metrics.registry import REGISTRY
    from bot.slack import slash as commands

    app = make_app(fake, sqlite_store)
    before = REGISTRY.get_sample_value("bugtracker_errors_total")
    monkeypatch.setattr(commands.services, "stats", lambda store: 1 / 0)
    app.dispatch(command_request("stats", fake=fake))
    answer = fake.wait_for(lambda: fake.responses)[0]
    assert answer["text"].startswith("Sorry, something went wrong") and "\n" not in answer["text"]
    assert REGISTRY.get_sample_value("bugtracker_errors_total") == before + 1
