"""Status cards through a real Bolt App and a real WebClient on the fake Slack: the first reply becomes the
card, /bug link and /bug unlink refresh it, a stale card message is replaced by a new one."""

from __future__ import annotations

import time

from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.config import SlackConfig
from bot.slack.status_board import CARD_PREFIX, PENDING_KEY, StatusBoard
from bot.slack.status_cards import SlackStatusCards
from tests.fakes.slack_server import WORKSPACE_URL, FakeSlack
from tests.support.builders import zendesk_record
from tests.support.slack_app import build_app, parts_of
from tests.support.slack_payload import live_markup

CHANNEL = "C0BUGS"


def setup(fake, store):
    client = WebClient(token="xoxb-test-token", base_url=fake.api_url)
    board = StatusBoard(store, SlackStatusCards(client))
    config = SlackConfig("xoxb-test-token", "xapp-test-token", (CHANNEL,), fake.api_url, (), True)
    app, _ = build_app(config, store, client, board=board)
    return app, board


def dispatch(app, body):
    assert app.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200
    app.listener_runner.listener_executor.submit(lambda: None).result()


def post(app, fake, text):
    message = fake.message(CHANNEL, text)
    event = {**message, "channel": CHANNEL}
    dispatch(
        app,
        {"type": "event_callback", "team_id": "T0FAKE", "event": event, "event_id": f"Ev{time.time_ns()}"},
    )
    return message


def command(app, fake, store, text):
    body = {"command": "/bug", "text": text, "user_id": "U0ALICE", "team_id": "T0FAKE", "channel_id": CHANNEL,
            "response_url": f"{fake.api_url.removesuffix('/api/')}/respond/{time.time_ns()}"}  # fmt: skip
    answered = len(fake.responses)
    dispatch(app, body)
    fake.wait_for(lambda: len(fake.responses) > answered)  # the listener answers, then notes the tickets
    fake.wait_for(lambda: (store.get_meta(PENDING_KEY) or {}).get("tickets"))


def test_link_and_unlink_refresh_the_card_that_was_the_first_reply(sqlite_store):
    store = sqlite_store
    store.upsert(zendesk_record(5, status="pending", title="Checkout <!channel>"))
    with FakeSlack() as fake:
        app, board = setup(fake, store)
        message = post(app, fake, "Checkout crashes")
        first = fake.wait_for(lambda: fake.thread_of(CHANNEL, message["ts"]))[0]
        report_id = f"SL-{message['ts']}"
        assert parts_of(app).answers.wait_idle(20)  # a plain first answer is not kept: found when needed
        assert store.get_meta(CARD_PREFIX + report_id) is None

        command(app, fake, store, f"link {report_id} ZD-5")
        board.flush()
        card = fake.thread_of(CHANNEL, message["ts"])
        assert len(card) == 1 and card[0]["ts"] == first["ts"]  # the first reply became the card
        assert "Status of ZD-5" in card[0]["text"] and "pending (started)" in card[0]["text"]
        # the title is plain_text (never parsed by Slack); no mrkdwn object carries it live
        assert {"type": "plain_text", "text": "Checkout <!channel>"} in card[0]["blocks"][2]["elements"]
        assert live_markup(card[0], (WORKSPACE_URL, "https://acme.zendesk.com/")) == ["<@U0ALICE>"]  # linker

        command(app, fake, store, f"unlink {report_id}")
        board.flush()
        assert "is not linked to a ticket any more" in str(
            fake.thread_of(CHANNEL, message["ts"])[0]["blocks"]
        )
        assert board.flush() == 0 and len(fake.updates) == 2  # nothing new: nothing sent
        assert all(update.get("parse") == "none" for update in fake.updates)  # never re-linked by Slack


def test_a_card_whose_message_is_gone_is_posted_again(sqlite_store):
    store = sqlite_store
    store.upsert(zendesk_record(5))
    with FakeSlack() as fake:
        app, board = setup(fake, store)
        message = post(app, fake, "Export broken ticketId=ZD-5")
        key = CARD_PREFIX + f"SL-{message['ts']}"
        fake.wait_for(lambda: store.get_meta(PENDING_KEY))  # answered, the tag's ticket noted
        board.flush()
        assert "Status of ZD-5" in fake.thread_of(CHANNEL, message["ts"])[0]["text"]
        store.put_meta(key, {**store.get_meta(key), "ts": "1.000000", "shown": []})  # deleted in Slack
        board.ticket_changed("ZD-5")
        board.flush()
        assert len(fake.thread_of(CHANNEL, message["ts"])) == 2  # the first reply, and a new card
        assert store.get_meta(key)["ts"] == fake.thread_of(CHANNEL, message["ts"])[-1]["ts"]


def test_a_card_that_slack_will_never_take_stops_retrying(sqlite_store, caplog):
    from bot.metrics.registry import STATUS_CARDS_UNREACHABLE

    store = sqlite_store
    store.upsert(zendesk_record(5))
    with FakeSlack() as fake:
        app, board = setup(fake, store)
        message = post(app, fake, "Export broken ticketId=ZD-5")
        key = CARD_PREFIX + f"SL-{message['ts']}"
        fake.wait_for(lambda: store.get_meta(PENDING_KEY))
        board.flush()
        before = STATUS_CARDS_UNREACHABLE.labels("is_archived")._value.get()
        fake.fail("chat.update", "is_archived")  # the channel was archived
        store.upsert(zendesk_record(5, updated=10, status="solved"))
        board.ticket_changed("ZD-5")

        board.flush()
        board.flush()

        assert STATUS_CARDS_UNREACHABLE.labels("is_archived")._value.get() == before + 1  # tried once
        assert board.pending() == [] and store.get_meta(key)["unreachable"] == "is_archived"
        assert "Traceback" not in caplog.text and "not retried" in caplog.text
