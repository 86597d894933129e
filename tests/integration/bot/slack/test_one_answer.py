"""Exactly one answer, each method paced by its own tier: the real Bolt App and the process's real WebClient
(bot/slack/web_client.py) on the fake Slack, which can take a post and then lose the answer to it."""

import pytest

from bot.config import SlackConfig
from bot.slack.answers import find_answer
from bot.slack.pacing import MethodPacing
from bot.slack.web_client import build_web_client
from tests.fakes.slack_server import FakeSlack
from tests.integration.bot.slack.test_listeners import event_request, settle
from tests.support.slack_app import build_app

CHANNEL = "C0BUGS"


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


def make_app(fake, store, pacing=None):
    config = SlackConfig("xoxb-test-token", "xapp-test-token", (CHANNEL,), fake.api_url, (), True)
    client = build_web_client(config.bot_token, fake.api_url, pacing or MethodPacing())
    app, _intake = build_app(config, store, client)
    return app, client


def answers_in(fake, thread_ts):
    return [m for m in fake.thread_of(CHANNEL, thread_ts) if (m.get("metadata") or {}).get("event_type")]


@pytest.mark.parametrize("failure", ["500", "drop"])
def test_a_post_that_lands_and_then_fails_is_answered_once(fake, sqlite_store, failure):
    app, client = make_app(fake, sqlite_store)
    fake.lose_answers(failure)
    report = fake.message(CHANNEL, "Checkout crashes priority=High")
    app.dispatch(event_request({**report, "channel": CHANNEL}))
    settle(app)
    answers = answers_in(fake, report["ts"])
    assert len(answers) == 1 and len(fake.posts) == 1  # posted once, never retried blindly
    assert answers[0]["metadata"]["event_type"] == "bugtracker_answer"
    key = answers[0]["metadata"]["event_payload"]["key"]
    assert key.startswith(f"answer:{CHANNEL}:SL-{report['ts']}:message:")
    assert fake.calls.count("conversations.replies") == 1  # the thread was read back instead
    assert find_answer(client, CHANNEL, report["ts"], key)["ts"] == answers[0]["ts"]


def test_a_post_that_never_landed_is_posted_again_after_reading_the_thread(fake, sqlite_store):
    app, _client = make_app(fake, sqlite_store)
    fake.lose_answers("refuse")
    report = fake.message(CHANNEL, "Search is slow")
    app.dispatch(event_request({**report, "channel": CHANNEL}))
    settle(app)
    assert len(answers_in(fake, report["ts"])) == 1
    assert fake.calls.count("chat.postMessage") == 2 and fake.calls.count("conversations.replies") == 1


def test_metadata_is_read_back_only_when_asked(fake, sqlite_store):
    app, client = make_app(fake, sqlite_store)
    report = fake.message(CHANNEL, "Crash")
    app.dispatch(event_request({**report, "channel": CHANNEL}))
    settle(app)
    plain = client.conversations_replies(channel=CHANNEL, ts=report["ts"])["messages"]
    assert all("metadata" not in message for message in plain)  # Slack's default: no metadata
    full = client.conversations_replies(channel=CHANNEL, ts=report["ts"], include_all_metadata=True)
    assert any("metadata" in message for message in full["messages"])


def test_a_429_holds_back_only_its_method_and_the_call_is_asked_again(fake, sqlite_store):
    slept = []
    pacing = MethodPacing(sleep=slept.append)  # records the waits instead of sleeping
    _app, client = make_app(fake, sqlite_store, pacing)
    posted = client.chat_postMessage(channel=CHANNEL, text="card")
    fake.rate_limit("chat.update", times=1, retry_after=30)
    client.chat_update(channel=CHANNEL, ts=posted["ts"], text="card, updated")
    assert fake.rate_limited == ["chat.update"] and len(fake.updates) == 1  # asked again, after the hold
    assert slept and 30 <= slept[0] <= 31
    assert pacing.held("chat.update") > 25  # every thread now waits for chat.update...
    assert pacing.delay("chat.postMessage", CHANNEL) == 0.0  # ...and only for it
