"""Slack as it really behaves, end to end: the bot as a process with the real SocketModeHandler against the
fake Slack. A refused token is one line and exit 3; Slack unreachable at start is waited out, one line per
attempt; then, on the same connection: a Workflow Builder form's report (SLACK_INTAKE_BOTS), an edited
thread reply answered, an unfurl that writes nothing, and a post that lands while its answer is lost
answered once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support.processes import child_env, run_entry_point, start_entry_point, stop_bot
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"
# How long a condition may take before the test fails: a bot process starting on a loaded machine can spend
# tens of seconds importing. A bound on failure only; a passing run waits just as long as the bot takes.
PATIENCE = 120


def slack_env(api_url: str, db: Path, **extra: str) -> dict[str, str]:
    tokens = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_APP_TOKEN": "xapp-test-token"}
    return child_env(
        **tokens, SLACK_CHANNEL_ID=CHANNEL, SLACK_API_URL=api_url, BUGTRACKER_DB=str(db), **extra
    )


def test_a_token_slack_refuses_is_one_line_and_exit_3(tmp_path):
    with FakeSlack() as fake:
        for variable, token, error in (
            ("SLACK_BOT_TOKEN", "xoxb-test-token", "token_revoked"),
            ("SLACK_APP_TOKEN", "xapp-test-token", "invalid_auth"),
        ):
            fake.refused.clear()
            fake.refuse_token(token, error)
            done = run_entry_point("bot", cwd=tmp_path, env=slack_env(fake.api_url, tmp_path / "bugs.db"))
            assert done.returncode == 3
            errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
            assert errors == [f"error: Slack refused {variable} ({error}): check the token (revoked, or from"
                              " another workspace or app?) and that the app is installed"]  # fmt: skip
            assert "Traceback" not in done.stderr and token not in done.stderr
            assert "will be unused" not in done.stderr


def test_unreachable_at_start_then_forms_edits_unfurls_and_a_lost_answer(tmp_path):
    db = tmp_path / "bugs.db"
    log_path = tmp_path / "bot.log"
    with FakeSlack() as fake:
        proxy = TcpProxy("127.0.0.1", int(fake.api_url.split(":")[2].split("/")[0])).start()
        proxy.stop()  # Slack unreachable: connections refused
        env = slack_env(f"{proxy.url}/api/", db, SLACK_INTAKE_BOTS="B0FORM")
        with log_path.open("w") as log:
            bot = start_entry_point("bot", cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(
                lambda: log_path.read_text().count("Slack unreachable") >= 2, timeout=PATIENCE, interval=0.1
            )
            proxy.start()  # Slack is back: the next attempt connects
            fake.wait_for(lambda: fake.connections, timeout=PATIENCE)
            store = SqliteStore(db)

            text = "*Report a bug*\nSubmitted by <@U0CAROL>\nExport fails priority=High"
            form = fake.workflow_message(CHANNEL, text)
            fake.push_event({**form, "channel": CHANNEL, "channel_type": "channel"})
            fake.wait_for(lambda: fake.thread_of(CHANNEL, form["ts"]))
            assert store.get_record("slack", form["ts"]).attributes["author"] == "U0CAROL"

            reply, _ = fake.post(CHANNEL, "ticketId=ZD-abc", thread_ts=form["ts"])
            fake.wait_for(lambda: len(fake.thread_of(CHANNEL, form["ts"])) == 2)
            assert "Could not read" in fake.thread_of(CHANNEL, form["ts"])[1]["text"]
            fake.push_event(fake.edit(CHANNEL, reply["ts"], "ticketId=ZD-123"))
            linked = fake.wait_for(
                lambda: len(fake.thread_of(CHANNEL, form["ts"])) == 3 and fake.thread_of(CHANNEL, form["ts"])
            )
            assert (
                "ZD-123" in linked[2]["text"] and store.get_record("slack", form["ts"]).ticket_id == "ZD-123"
            )

            before = store.get_record("slack", form["ts"])
            fake.push_event(fake.unfurl(CHANNEL, form["ts"]))
            report, _ = fake.post(CHANNEL, "Later report")  # events are handled in order: the unfurl is done
            fake.wait_for(lambda: fake.thread_of(CHANNEL, report["ts"]))
            assert store.get_record("slack", form["ts"]) == before

            fake.lose_answers("drop")
            lost, _ = fake.post(CHANNEL, "Checkout crashes")
            fake.wait_for(lambda: fake.thread_of(CHANNEL, lost["ts"]))
            fake.wait_for(lambda: "conversations.replies" in fake.calls)
            wait_until(lambda: "not posting again" in log_path.read_text(), timeout=PATIENCE, interval=0.1)
            assert len(fake.thread_of(CHANNEL, lost["ts"])) == 1
        finally:
            stop_bot(bot)  # killed if it does not stop within the bound
            proxy.stop()
    output = log_path.read_text()
    attempts = [line for line in output.splitlines() if "Slack unreachable" in line]
    assert len(attempts) >= 2 and all("attempt" in line and "retrying in" in line for line in attempts)
    assert "Traceback" not in output and "will be unused" not in output
    starting = output.split("connected to Slack over Socket Mode")[0]
    assert "Failed to send a request" not in starting  # one line per attempt: no library lines besides
    assert "xoxb-test-token" not in output
