"""apps.connections.open answered 429 at start: waited out per its Retry-After, one line, no traceback; the
URL it then hands out is returned for the first connection (so the call is made once)."""

from __future__ import annotations

import logging

import pytest
from slack_sdk import WebClient

from bot.slack.startup import verify_app_token
from tests.fakes.slack_server import FakeSlack


def test_a_429_on_connect_waits_its_retry_after_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with FakeSlack() as fake:
        fake.rate_limit("apps.connections.open", times=1, retry_after=2)
        client = WebClient(token="xoxb-test-token", base_url=fake.api_url)
        with caplog.at_level(logging.INFO, logger="bot.slack.startup"):
            url = verify_app_token(client, "xapp-test-token")
        assert url == fake.ws_url
        assert fake.rate_limited == ["apps.connections.open"]  # the 429, then the call that answered
    lines = [r for r in caplog.records if r.name == "bot.slack.startup"]
    assert len(lines) == 1 and "HTTP 429" in lines[0].getMessage()
    assert "retrying in 2 s" in lines[0].getMessage()  # Retry-After, not the backoff's first 1 s
    assert lines[0].exc_info is None
