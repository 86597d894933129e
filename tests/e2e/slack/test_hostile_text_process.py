"""The bot as a process (real SocketModeHandler) against the fake Slack: a hostile report and a customer's
hostile Zendesk subject never come back to the channel as live markup, in any post or /bug answer."""

import json
import subprocess

import pytest

from adapters.zendesk import ticket_to_record
from storage.sqlite import SqliteStore
from tests.fakes.slack_server import WORKSPACE_URL, FakeSlack
from tests.support.processes import child_env, start_entry_point, stop_bot
from tests.support.slack_payload import live_markup, unverbatim_objects

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"
ALLOWED = (WORKSPACE_URL.rstrip("/") + "/archives/", "https://acme.zendesk.com/agent/tickets/")
WIRE = (
    "Refund page down &lt;!channel&gt; <!channel> <!here> <!subteam^S1> <https://evil.example|Zendesk ZD-777>"
    " ticketId=ZD-777 priority=&lt;!everyone&gt;"
)


def test_hostile_text_never_comes_back_live(tmp_path):
    db_path = tmp_path / "bugs.db"
    store = SqliteStore(db_path)
    store.init()
    subject = "<!channel> <https://evil.example|Zendesk ZD-1> refund & more"
    ticket = {"id": 777, "subject": subject, "status": "open", "priority": "high",
              "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-02T10:00:00Z"}  # fmt: skip
    store.upsert(ticket_to_record(ticket, {}, "acme"))
    env = child_env(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_APP_TOKEN="xapp-test-token",
                    SLACK_CHANNEL_ID=CHANNEL, BUGTRACKER_DB=str(db_path))  # fmt: skip
    with FakeSlack() as fake:
        bot = start_entry_point("bot", cwd=tmp_path, env={**env, "SLACK_API_URL": fake.api_url},
                                stderr=subprocess.STDOUT)  # fmt: skip
        try:
            fake.wait_for(lambda: fake.connections, timeout=20)
            message, envelope = fake.post(CHANNEL, WIRE)
            fake.wait_for(lambda: fake.posts)
            command = fake.push_command("show ZD-777 public")
            shown = fake.wait_for(lambda: fake.response_to(command))
            listing = fake.push_command("list source zendesk")
            listed = fake.wait_for(lambda: fake.response_to(listing))
            fake.wait_for(lambda: all(e in fake.acks for e in (envelope, command, listing)))
        finally:
            output = stop_bot(bot)  # killed if it does not stop within the bound
    assert "Traceback" not in output
    assert store.get_record("slack", message["ts"]).attributes["text"] == WIRE
    assert "refund" in json.dumps(shown["blocks"]) and shown["response_type"] == "in_channel"
    for payload in [*fake.posts, shown, listed]:
        assert live_markup(payload, ALLOWED) == [], payload
        assert unverbatim_objects(payload) == []
