"""A tag-dense 40,000-char logfmt paste, through a real Bolt App on both stores: stored (text bounded and
marked, the permalink kept), answered with one bounded thread reply within Slack's limits."""

import json
import time

from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from adapters.slack_message import TEXT_LIMIT
from bot.config import SlackConfig
from bot.slack.mrkdwn import MAX_BLOCKS, SECTION_LIMIT
from storage.bounds import MAX_RECORD_BYTES, record_bytes
from tests.fakes.slack_server import FakeSlack
from tests.support.builders import logfmt_dump
from tests.support.slack_app import build_app
from tests.support.slack_payload import live_markup, mrkdwn_objects

CHANNEL = "C0BUGS"


def test_a_tag_dense_paste_is_stored_and_answered_within_limits(store):
    text = logfmt_dump(40_000)
    assert len(text) >= 40_000
    with FakeSlack() as fake:
        config = SlackConfig("xoxb-test-token", "xapp-test-token", (CHANNEL,), fake.api_url, (), True)
        app, _ = build_app(config, store, WebClient(token="xoxb-test-token", base_url=fake.api_url))
        message = fake.message(CHANNEL, text)
        event = {**message, "channel": CHANNEL}
        body = {"type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE", "event": event,
                "event_id": "Ev1", "event_time": int(time.time())}  # fmt: skip
        assert app.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200
        reply = fake.wait_for(lambda: fake.posts)[0]
    stored = store.get_record("slack", message["ts"])
    assert stored is not None and record_bytes(stored) <= MAX_RECORD_BYTES
    assert stored.attributes["text_truncated"] is True and stored.attributes["text_length"] == len(text)
    assert text.startswith(stored.attributes["text"].removesuffix("…"))  # as sent, cut outside markup
    assert len(stored.attributes["text"]) <= TEXT_LIMIT and stored.url.endswith(
        message["ts"].replace(".", "")
    )
    blocks = json.loads(reply["blocks"]) if isinstance(reply["blocks"], str) else reply["blocks"]
    assert len(reply["text"]) <= 3000 and len(blocks) <= MAX_BLOCKS
    assert all(len(obj["text"]) <= SECTION_LIMIT for obj in mrkdwn_objects(blocks))
    assert reply["text"].count("Could not read") <= 5 and "more problem(s)" in reply["text"]
    assert live_markup({"text": reply["text"], "blocks": blocks}) == []
