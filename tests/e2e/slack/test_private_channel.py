"""Who may read a report, end to end, on both stores: the bot as a process (real SocketModeHandler) on the
fake Slack, with a PRIVATE bug channel. A non-member, a guest of the channel and a member each run `/bug
show`, `/bug unlinked` and `/bug show … public` from a DM and open the Home tab: only the member sees the
report. Then the message is deleted in Slack: its words are gone from every surface, from the drill-down API
and from the store's raw item. An edit delivered after the deletion brings no words back."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import urllib.request
import uuid

import pytest

from storage.dynamodb import DynamoDBStore
from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support.processes import child_env, start_entry_point, stop_bot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
CHANNEL = "G0PAYROLL"
MEMBER, GUEST, OUTSIDER = "U0CAROL", "U0GUEST", "U0MALLORY"
REFUSAL = "You need to be in #payroll-bugs to see its reports."
SECRET = "Jane Doe"
API_TOKEN = "e2e-api-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["sqlite", "dynamodb"])
def backend(request, tmp_path):
    """(store as the test reads it, env for the bot, raw(ts) -> the stored row / item as text)."""
    if request.param == "sqlite":
        path = tmp_path / "bugs.db"
        store = SqliteStore(path)
        store.init()

        def raw(ts: str) -> str:
            with sqlite3.connect(path) as connection:
                rows = connection.execute("SELECT * FROM records WHERE record_id = ?", (ts,)).fetchall()
            assert len(rows) == 1
            return json.dumps(rows)

        yield store, {"BUGTRACKER_DB": str(path)}, raw
        return
    import boto3

    endpoint = request.getfixturevalue("moto_server")
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    table = f"bugs-{uuid.uuid4().hex[:8]}"
    store = DynamoDBStore(client, table)
    store.init()

    def raw(ts: str) -> str:
        items = client.scan(TableName=table)["Items"]  # every item, whatever partition it lives in
        found = [item for item in items if item.get("recordId") == {"S": ts}]
        assert len(found) == 1
        return json.dumps(items)

    yield store, {"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "DYNAMODB_TABLE": table}, raw


@pytest.fixture
def bot(backend, tmp_path):
    store, env, raw = backend
    members = {CHANNEL: [MEMBER, GUEST]}
    names = {CHANNEL: "payroll-bugs"}
    with FakeSlack(members=members, guests={GUEST: "multi"}, channel_names=names) as fake:
        port = free_port()
        variables = dict(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_APP_TOKEN="xapp-test-token",
                         SLACK_CHANNEL_ID=CHANNEL, SLACK_API_URL=fake.api_url, METRICS_PORT=str(port),
                         METRICS_API_TOKEN=API_TOKEN, **env)  # fmt: skip
        process = start_entry_point("bot", cwd=tmp_path, env=child_env(**variables), stderr=subprocess.STDOUT)
        try:
            fake.wait_for(lambda: fake.connections, timeout=30)
            yield fake, store, raw, f"http://127.0.0.1:{port}"
        finally:
            output = stop_bot(process)  # killed if it does not stop within the bound
            assert "xoxb-test-token" not in output and SECRET not in output
            assert "unexpected error" not in output and "Failed to run listener" not in output, output


def command(fake: FakeSlack, text: str, user: str, channel: str = "D0DM") -> dict:
    envelope = fake.push_command(text, user=user, channel=channel)
    fake.wait_for(lambda: envelope in fake.acks, timeout=3)
    return fake.wait_for(lambda: fake.response_to(envelope), timeout=10)


def home(fake: FakeSlack, user: str) -> str:
    before = len(fake.publishes)
    fake.push_app_home_opened(user)
    fake.wait_for(lambda: len(fake.publishes) > before and fake.publishes[-1]["user_id"] == user)
    return json.dumps(fake.published[user])


def api(base: str, path: str) -> str:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {API_TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def test_only_members_read_a_private_channel_and_a_deleted_message_is_gone_everywhere(bot):
    fake, store, raw, base = bot
    message, _ = fake.post(CHANNEL, f"Payroll export shows {SECRET}'s salary priority=High", MEMBER)
    fake.wait_for(lambda: fake.thread_of(CHANNEL, message["ts"]))
    report = f"SL-{message['ts']}"

    for user in (OUTSIDER, GUEST):
        for text in (f"show {report}", "unlinked", f"show {report} public"):
            answer = command(fake, text, user)
            assert answer["text"] == REFUSAL and answer["response_type"] == "ephemeral", (user, text)
            assert SECRET not in json.dumps(answer)
        seen = home(fake, user)
        assert REFUSAL in seen and SECRET not in seen and report not in seen

    assert SECRET in json.dumps(command(fake, f"show {report}", MEMBER))
    assert SECRET in json.dumps(command(fake, "unlinked", MEMBER))
    public = command(fake, f"show {report} public", MEMBER)  # from a DM: not for everyone there
    assert public["response_type"] == "ephemeral" and "works only inside the bug channel" in public["text"]
    assert SECRET in home(fake, MEMBER)
    assert SECRET in raw(message["ts"]) and SECRET in api(base, f"/api/tickets/{report}")

    fake.push_event({**fake.delete(CHANNEL, message["ts"]), "channel_type": "group"})
    wait_until(lambda: store.get_record("slack", message["ts"]).deleted, timeout=10)

    for text in (f"show {report} deleted", "unlinked", "list priority High", "list source slack"):
        assert SECRET not in json.dumps(command(fake, text, MEMBER)), text
    shown = json.dumps(command(fake, f"show {report} deleted", MEMBER))
    assert report in shown and "deleted" in shown  # that a report was there and was deleted stays
    assert SECRET not in home(fake, MEMBER)
    assert SECRET not in api(base, f"/api/tickets/{report}")
    assert SECRET not in raw(message["ts"]) and "Payroll" not in raw(message["ts"])
    again, _ = fake.post(CHANNEL, "Payroll export shows a salary", MEMBER)  # a look-alike: not suggested
    assert report not in json.dumps(fake.wait_for(lambda: fake.thread_of(CHANNEL, again["ts"])))


def handled(base: str, kind: str) -> float:
    """How many Slack events of `kind` the bot has handled (its /metrics)."""
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.search(rf'^bugtracker_events_handled_total\{{kind="{kind}"\}} (\S+)$', text, re.MULTILINE)
    return float(found[1]) if found else 0.0


def test_a_late_edit_after_the_erase_stays_erased(bot):
    """An edit made before the deletion and delivered after it (Slack does not promise the order) is handled
    as the deletion: the words, old or new, come back nowhere."""
    fake, store, raw, base = bot
    message, _ = fake.post(CHANNEL, f"Payroll export shows {SECRET}'s salary", MEMBER)
    fake.wait_for(lambda: fake.thread_of(CHANNEL, message["ts"]))
    late = fake.edit(CHANNEL, message["ts"], f"Payroll export shows {SECRET}'s bonus priority=High")
    fake.push_event({**fake.delete(CHANNEL, message["ts"]), "channel_type": "group"})
    wait_until(lambda: handled(base, "delete") == 1, timeout=10)
    assert store.get_record("slack", message["ts"]).deleted

    fake.push_event({**late, "channel_type": "group"})
    wait_until(lambda: handled(base, "delete") == 2, timeout=10)  # the late edit, handled as the deletion
    stored = store.get_record("slack", message["ts"])
    assert stored.deleted and not stored.title and stored.priority is None
    assert SECRET not in str(stored) and "bonus" not in str(stored)
    assert SECRET not in raw(message["ts"]) and "bonus" not in raw(message["ts"])
    assert f"SL-{message['ts']}" not in json.dumps(command(fake, "list priority High", MEMBER))
