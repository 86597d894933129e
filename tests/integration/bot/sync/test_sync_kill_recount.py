"""`bugtracker sync` killed with SIGKILL while it writes a batch to DynamoDB (moto's server over
HTTP) can leave the kept counters short (the batch's records written, its one counter update not); then
`bugtracker stats --recount` finds the counts exact, and a second recount finds nothing to correct.

The kill lands mid-page for certain: moto's server holds the page's second BatchWriteItem until the process
is dead (no polling of the table, no race with the writer), so one batch of records is written and the page's
counter update never is."""

from __future__ import annotations

import json
import signal
import threading
import uuid

import boto3
import pytest

from storage import counters
from storage.dynamodb import DynamoDBStore
from tests.fakes.zendesk import FakeZendesk
from tests.support.moto_server import AtomicMotoServer
from tests.support.processes import child_env, run_entry_point, start_entry_point
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
TICKETS = 2500  # pages of 1000, 1000, 500
PER_BATCH = 25  # items a BatchWriteItem takes
HELD = 2  # the first page's second batch: one batch of records is written, the page's counters are not


class HoldBatch:
    """Once armed, holds the `nth` BatchWriteItem moto's server receives until released."""

    def __init__(self, nth: int) -> None:
        self.nth, self.seen = nth, 0
        self.armed, self.holding, self.released = threading.Event(), threading.Event(), threading.Event()
        self._lock = threading.Lock()

    def __call__(self, operation: str) -> None:
        if operation != "BatchWriteItem" or not self.armed.is_set():
            return
        with self._lock:
            self.seen += 1
            hold = self.seen == self.nth
        if hold:
            self.holding.set()
            self.released.wait(timeout=120)


@pytest.fixture
def held_moto(monkeypatch: pytest.MonkeyPatch):
    """A moto server of this test's own (the hold must not stop anyone else's requests), its environment."""
    hold = HoldBatch(HELD)
    server = AtomicMotoServer(before=hold).start()
    table = f"bugs-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.url)
    monkeypatch.setenv("DYNAMODB_TABLE", table)
    try:
        yield hold, child_env(AWS_ENDPOINT_URL_DYNAMODB=server.url, DYNAMODB_TABLE=table)
    finally:
        hold.released.set()
        server.stop()


def test_a_sync_killed_mid_batch_is_exact_after_a_recount(held_moto, tmp_path):
    hold, moto_env = held_moto
    with FakeZendesk() as fake:
        fake.add_tickets(TICKETS)
        env = {
            **moto_env,
            "ZENDESK_SUBDOMAIN": fake.subdomain,
            "ZENDESK_EMAIL": fake.email,
            "ZENDESK_API_TOKEN": fake.token,
            "ZENPY_FORCE_SCHEME": "http",
            "ZENPY_FORCE_NETLOC": fake.netloc,
        }
        assert run_entry_point("bot.cli", "init", cwd=tmp_path, env=env).returncode == 0
        store = DynamoDBStore(boto3.client("dynamodb"), env["DYNAMODB_TABLE"])
        hold.armed.set()
        sync = start_entry_point("bugtracker", "sync", "--source", "zendesk", cwd=tmp_path, env=env)
        try:
            wait_until(lambda: hold.holding.is_set() or sync.poll() is not None, timeout=120, interval=0.05)
            assert hold.holding.is_set(), f"the sync ended first: {sync.returncode}"
        finally:
            sync.send_signal(signal.SIGKILL)
            sync.wait(timeout=10)
            hold.released.set()

    stored = list(store.scan_records())
    assert PER_BATCH <= len(stored) <= 2 * PER_BATCH  # the held batch may land or not
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
