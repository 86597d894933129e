"""`bugtracker sync` killed with SIGKILL while it writes a batch to DynamoDB (moto's server over
HTTP) can leave the kept counters short (the batch's records written, its one counter update not); then
`bugtracker stats --recount` finds the counts exact, and a second recount finds nothing to correct."""

from __future__ import annotations

import json
import signal

import boto3
import pytest

from storage import counters
from storage.dynamodb import DynamoDBStore
from tests.fakes.zendesk import FakeZendesk
from tests.support.processes import run_entry_point, start_entry_point
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
TICKETS = 2500  # pages of 1000, 1000, 500


def test_a_sync_killed_mid_batch_is_exact_after_a_recount(moto_endpoint_env, tmp_path):
    with FakeZendesk() as fake:
        fake.add_tickets(TICKETS)
        env = {
            **moto_endpoint_env,
            "ZENDESK_SUBDOMAIN": fake.subdomain,
            "ZENDESK_EMAIL": fake.email,
            "ZENDESK_API_TOKEN": fake.token,
            "ZENPY_FORCE_SCHEME": "http",
            "ZENPY_FORCE_NETLOC": fake.netloc,
        }
        assert run_entry_point("bot.cli", "init", cwd=tmp_path, env=env).returncode == 0
        store = DynamoDBStore(boto3.client("dynamodb"), env["DYNAMODB_TABLE"])
        client = boto3.client("dynamodb")
        sync = start_entry_point("bugtracker", "sync", "--source", "zendesk", cwd=tmp_path, env=env)

        def mid_batch() -> bool:  # the second page's batch has written ZD-1050 (in order, 25 a call)
            key = {"ticketId": {"S": "ZD-1050"}, "sourceRecord": {"S": "zendesk#1050"}}
            return "Item" in client.get_item(TableName=env["DYNAMODB_TABLE"], Key=key)

        wait_until(mid_batch, timeout=120, interval=0.01)
        sync.send_signal(signal.SIGKILL)
        sync.wait(timeout=10)

    stored = list(store.scan_records())
    assert 1000 < len(stored) < 2000  # killed while the second page's batch was being written
    kept_before = store.read_counters()
    recount = run_entry_point("bot.cli", "--json", "stats", "--recount", cwd=tmp_path, env=env)
    assert recount.returncode == 0, recount.stderr
    answer = json.loads(recount.stdout)

    exact = counters.tally(store.scan_records())
    assert store.read_counters() == exact
    assert answer["counts"]["total"] == sum(1 for record in stored if not record.deleted)
    assert answer["drift"] == counters.drift(kept_before, exact) != {}  # the batch's update never ran
    again = json.loads(
        run_entry_point("bot.cli", "--json", "stats", "--recount", cwd=tmp_path, env=env).stdout
    )
    assert again["drift"] == {}
