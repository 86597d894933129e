"""Create from a private channel's report, end to end on both stores: the bot as a process (real
SocketModeHandler, the real Shortcut client) on the fake Slack and the fake Shortcut. The form says the text
will leave the channel and copies nothing until the box is ticked; the story it then creates is shown only to
the private channel's readers: not in another reader's `/bug list`, `/bug top` or App Home, not suggested in
the public channel's thread (docs/privacy.md, "Create says where it goes")."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request

import pytest

from bot.slack.create_blocks import CONFIRM, CONFIRMED, OPEN_ACTION
from tests.e2e.slack.test_create_from_slack import latest_form, prefilled
from tests.e2e.slack.test_private_channel import backend, free_port  # noqa: F401 - the both-stores fixture
from tests.fakes.shortcut import FakeShortcut
from tests.fakes.slack_server import FakeSlack
from tests.support.processes import child_env, start_entry_point, stop_bot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
PUBLIC, PRIVATE = "C0BUGS", "G0PAY"
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"  # Alice reads both, Bob #bugs only, Carol #payroll only
WORDS = "Payroll export leaks the salaries of the ACME board"


def pulled(base: str) -> bool:
    """The Shortcut pull the bot runs at its start has completed (its /metrics)."""
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.search(
        r'^bugtracker_sync_last_success_timestamp_seconds\{source="shortcut"\} (\S+)$', text, re.MULTILINE
    )
    return bool(found) and float(found[1]) > 0


def command(fake: FakeSlack, text: str, user: str) -> str:
    envelope = fake.push_command(text, user=user, channel="D0DM")
    fake.wait_for(lambda: envelope in fake.acks, timeout=3)
    return json.dumps(fake.wait_for(lambda: fake.response_to(envelope), timeout=10))


def home(fake: FakeSlack, user: str) -> str:
    before = len(fake.publishes)
    fake.push_app_home_opened(user)
    fake.wait_for(lambda: len(fake.publishes) > before and fake.publishes[-1]["user_id"] == user)
    return json.dumps(fake.published[user])


def test_a_private_report_asks_before_it_copies_and_its_story_stays_with_its_readers(
    backend,  # noqa: F811 - the imported fixture
    tmp_path,
):
    store, env, _raw = backend
    members = {PUBLIC: [ALICE, BOB], PRIVATE: [ALICE, CAROL]}
    with (
        FakeSlack(members=members, channel_names={PRIVATE: "payroll"}) as slack,
        FakeShortcut() as shortcut,
    ):
        port = free_port()
        variables = dict(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_APP_TOKEN="xapp-test-token",
                         SLACK_CHANNEL_ID=f"{PUBLIC},{PRIVATE}", SLACK_API_URL=slack.api_url,
                         SHORTCUT_API_TOKEN=shortcut.token, SHORTCUT_API_URL=shortcut.api_url,
                         SYNC_INTERVAL_SECONDS="3600", METRICS_PORT=str(port), **env)  # fmt: skip
        process = start_entry_point("bot", cwd=tmp_path, env=child_env(**variables), stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            slack.wait_for(lambda: slack.connections, timeout=30)
            wait_until(lambda: pulled(base), 30)  # no pull writes the story again while the test runs
            message, _ = slack.post(PRIVATE, WORDS, CAROL)
            answer = slack.wait_for(lambda: slack.thread_of(PRIVATE, message["ts"]))[0]
            slack.push_block_action(PRIVATE, answer, OPEN_ACTION, CAROL)
            form = latest_form(slack, 1)
            opened = {"view": form["view"], "view_id": form["view_id"]}
            assert "This report is from a private channel" in json.dumps(form["view"])

            values = {block: value for block, value in prefilled(form["view"]).items() if block != CONFIRM}
            refused = slack.push_view_submission(opened, values, CAROL)
            payload = slack.wait_for(lambda: slack.acks.get(refused), timeout=10)["payload"]
            assert payload["response_action"] == "errors" and CONFIRM in payload["errors"]
            assert shortcut.posts("/stories") == []  # nothing copied without the box ticked

            ticked = {"type": "checkboxes", "selected_options": [{"value": CONFIRMED}]}
            slack.push_view_submission(opened, {**values, CONFIRM: {CONFIRM: ticked}}, CAROL)
            slack.wait_for(
                lambda: [
                    m for m in slack.thread_of(PRIVATE, message["ts"]) if "Created SC-9001" in m["text"]
                ],
                timeout=20,
            )
            assert store.get_record("shortcut", "9001").attributes["visible_to"] == PRIVATE

            seen = {text: command(slack, text, BOB) for text in ("list", "list source shortcut", "top")}
            seen["show"] = command(slack, "show SC-9001", BOB)
            like, _ = slack.post(PUBLIC, "Payroll export leaks the salaries", ALICE)
            seen["suggestions in #bugs"] = json.dumps(
                slack.wait_for(lambda: slack.thread_of(PUBLIC, like["ts"]))
            )
            seen["App Home"] = home(slack, BOB)
            for surface, shown in seen.items():
                assert "ACME board" not in shown, surface
                assert surface == "show" or "SC-9001" not in shown, surface
            carol = command(slack, "list source shortcut", CAROL)
            assert "SC-9001" in carol and "ACME board" in carol  # its channel's reader: yes
        finally:
            output = stop_bot(process)
        assert "Traceback" not in output and "unexpected error" not in output, output
