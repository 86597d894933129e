"""Slack as it really behaves, through a real Bolt App on the fake Slack: reports from Workflow Builder forms
(SLACK_INTAKE_BOTS), an edited thread reply answered by its edit's time, unfurls that are no edit."""

import pytest
from slack_sdk import WebClient

from bot.config import SlackConfig
from tests.fakes.slack_server import BOT_USER_ID, FakeSlack
from tests.integration.bot.slack.test_listeners import event_request, settle
from tests.support.slack_app import build_app

CHANNEL = "C0BUGS"


@pytest.fixture
def fake():
    with FakeSlack(members={CHANNEL: ["U0CAROL"]}) as server:  # a form's tag links as its reporter: a reader
        yield server


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request):
    return request.getfixturevalue(f"{request.param}_store")


def make_app(fake, store, intake_bots=()):
    config = SlackConfig(
        "xoxb-test-token", "xapp-test-token", (CHANNEL,), fake.api_url, (), True, intake_bots=intake_bots
    )
    app, _intake = build_app(config, store, WebClient(token="xoxb-test-token", base_url=fake.api_url))
    return app


def push(app, message):
    assert app.dispatch(event_request({**message, "channel": CHANNEL})).status == 200


def test_a_form_listed_by_bot_id_or_app_id_is_a_report_of_the_person_it_mentions(fake, store):
    app = make_app(fake, store, intake_bots=("B0FORM", "A0OTHER"))
    form = fake.workflow_message(
        CHANNEL, "*Bug report*\nSubmitted by <@U0CAROL>\nCheckout fails priority=High ticketId=ZD-77"
    )
    push(app, form)
    answer = fake.wait_for(lambda: fake.posts)[0]
    assert answer["thread_ts"] == form["ts"] and "ZD-77" in answer["text"]
    stored = store.get_record("slack", form["ts"])
    assert stored.attributes["author"] == "U0CAROL" and stored.priority == "High"
    assert stored.ticket_id == "ZD-77"

    by_app = fake.workflow_message(CHANNEL, "Search is slow", bot_id="B0OTHER", app_id="A0OTHER")
    push(app, by_app)
    fake.wait_for(lambda: len(fake.posts) == 2)
    assert store.get_record("slack", by_app["ts"]).attributes["author"] == "B0OTHER"  # nobody mentioned


def test_unlisted_bots_and_our_own_bot_are_never_reports(fake, store):
    app = make_app(fake, store, intake_bots=("B0FORM", "B0BOT"))  # our own bot listed by mistake
    push(app, fake.workflow_message(CHANNEL, "from another integration", bot_id="B0NOISE", app_id="A0NOISE"))
    ours = fake.message(CHANNEL, "Stored as SL-1", user=BOT_USER_ID, bot_id="B0BOT")
    push(app, ours)
    answer = {**fake.workflow_message(CHANNEL, "an answer"), "metadata": {"event_type": "bugtracker_answer"}}
    push(app, answer)
    settle(app)
    assert store.counts().total == 0 and fake.posts == []


def test_an_edited_thread_reply_gets_its_own_answer(fake, store):
    app = make_app(fake, store)
    report = fake.message(CHANNEL, "Crash on save")
    push(app, report)
    fake.wait_for(lambda: fake.posts)
    reply = fake.message(CHANNEL, "ticketId=ZD-abc", thread_ts=report["ts"])
    push(app, reply)
    problem = fake.wait_for(lambda: len(fake.posts) == 2 and fake.posts)[1]
    assert "Could not read" in problem["text"] and problem["thread_ts"] == report["ts"]

    app.dispatch(event_request(fake.edit(CHANNEL, reply["ts"], "ticketId=ZD-123")))
    linked = fake.wait_for(lambda: len(fake.posts) == 3 and fake.posts)[2]
    assert "ZD-123" in linked["text"] and linked["thread_ts"] == report["ts"]
    assert store.get_record("slack", report["ts"]).ticket_id == "ZD-123"


def test_an_unfurl_is_no_edit_and_writes_nothing(fake, store):
    app = make_app(fake, store, intake_bots=("B0FORM",))
    report = fake.message(CHANNEL, "Broken page https://example.com/")
    form = fake.workflow_message(CHANNEL, "Submitted by <@U0CAROL> see https://example.com/")
    for message in (report, form):
        push(app, message)
    fake.wait_for(lambda: len(fake.posts) == 2)
    before = [store.get_record("slack", message["ts"]) for message in (report, form)]
    for message in (report, form):
        app.dispatch(event_request(fake.unfurl(CHANNEL, message["ts"])))
    settle(app)
    assert [store.get_record("slack", message["ts"]) for message in (report, form)] == before
    assert len(fake.posts) == 2
