"""`bugtracker sync` as real processes against the fake Zendesk over HTTP and one SQLite store:
kill -9 mid-backfill then an immediate rerun -> every ticket exactly once; two concurrent runs -> one pulls,
one skips naming the other; with --wait the second waits and then runs."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from storage.sqlite import SqliteStore
from tests.fakes.zendesk import EXPORT_PATH, FakeZendesk
from tests.support.processes import child_env, run_entry_point, start_entry_point
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
TICKETS = 2500  # three export pages (1000, 1000, 500)


@pytest.fixture
def fake():
    with FakeZendesk() as server:
        yield server


def _env(fake: FakeZendesk, db: Path, lease_seconds: int = 3) -> dict[str, str]:
    """The sync's environment on the SQLite file `db`, created first as `bugtracker init` would (a one-shot
    command does not create a store). `lease_seconds`: the sync lease's length."""
    created = SqliteStore(db)
    created.init()
    created.close()
    return child_env(
        ZENDESK_SUBDOMAIN=fake.subdomain,
        ZENDESK_EMAIL=fake.email,
        ZENDESK_API_TOKEN=fake.token,
        ZENPY_FORCE_SCHEME="http",
        ZENPY_FORCE_NETLOC=fake.netloc,
        BUGTRACKER_DB=str(db),
        SYNC_LEASE_SECONDS=str(lease_seconds),
    )


def _sync(env, cwd, *args) -> subprocess.Popen:
    return start_entry_point("bugtracker", "--json", "sync", "--source", "zendesk", *args, cwd=cwd, env=env)


def _zendesk_ids(db: Path) -> list[int]:
    store = SqliteStore(db)
    try:
        ids, cursor = [], None
        while True:
            page = store.list_records(source="zendesk", limit=500, cursor=cursor)
            ids += [int(record.record_id) for record in page.records]
            if (cursor := page.next_cursor) is None:
                return sorted(ids)
    finally:
        store.close()


def test_kill_9_mid_backfill_then_rerun_stores_every_ticket_exactly_once(fake, tmp_path):
    fake.add_tickets(TICKETS)
    db = tmp_path / "bugs.db"
    # A lease far longer than the test: the rerun can only get in by the take-over, however long a loaded
    # machine takes to start it (with a few seconds' lease it could simply have expired).
    env = _env(fake, db, lease_seconds=600)
    fake.delay = 0.4  # slow pages, so the kill lands mid-run
    victim = _sync(env, tmp_path)
    wait_until(lambda: fake.pages_served >= 2, timeout=30, interval=0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    assert victim.returncode == -signal.SIGKILL
    stored_before = _zendesk_ids(db)
    assert 0 < len(stored_before) < TICKETS
    assert stored_before == list(range(1, len(stored_before) + 1))  # whole pages, in export order

    fake.delay = 0
    # At once: the dead process's lease has not expired, but its holder ran here and is gone.
    requests_before = len(fake.requests)
    rerun = _sync(env, tmp_path)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    summary = json.loads(out)[0]
    assert summary["skipped"] is False
    assert f":{victim.pid}: that process is gone" in err  # the take-over is logged (a warning)
    assert (
        "cursor" in fake.requests[-(fake.count(EXPORT_PATH) - requests_before)][2]
    )  # resumed, not restarted
    assert _zendesk_ids(db) == list(range(1, TICKETS + 1))
    assert summary["inserted"] == TICKETS - len(stored_before)  # nothing inserted twice
    assert summary["fetched"] <= TICKETS - len(stored_before) + 1000  # at most the one unsaved page again
    assert summary["failed"] == 0


def test_two_concurrent_runs_one_pulls_one_skips(fake, tmp_path):
    fake.add_tickets(TICKETS)
    db = tmp_path / "bugs.db"
    env = _env(fake, db)
    SqliteStore(db).init()
    fake.delay = 0.3
    first, second = _sync(env, tmp_path), _sync(env, tmp_path)
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    assert [process.returncode for process in (first, second)] == [0, 0], outputs
    summaries = [json.loads(out)[0] for out, _ in outputs]
    assert sorted(summary["skipped"] for summary in summaries) == [False, True]
    puller = next(summary for summary in summaries if not summary["skipped"])
    skipper = next(summary for summary in summaries if summary["skipped"])
    pids = {first.pid, second.pid}
    assert skipper["holder"].rsplit(":", 1)[1] in {str(pid) for pid in pids}
    assert puller["inserted"] == TICKETS
    assert fake.count(EXPORT_PATH) == 3
    assert _zendesk_ids(db) == list(range(1, TICKETS + 1))


def test_wait_waits_for_the_running_sync_then_runs(fake, tmp_path):
    fake.add_tickets(TICKETS)
    db = tmp_path / "bugs.db"
    env = _env(fake, db)
    SqliteStore(db).init()
    fake.delay = 0.3
    first = _sync(env, tmp_path)
    wait_until(lambda: fake.pages_served >= 1, timeout=30, interval=0.05)
    waiter = _sync(env, tmp_path, "--wait")
    (out1, err1), (out2, err2) = first.communicate(timeout=120), waiter.communicate(timeout=120)
    assert (first.returncode, waiter.returncode) == (0, 0), (err1, err2)
    pulled, waited = json.loads(out1)[0], json.loads(out2)[0]
    assert pulled["inserted"] == TICKETS and not pulled["skipped"]
    assert not waited["skipped"] and waited["inserted"] == 0  # it ran after the first had stored all
    assert "zendesk: waiting for the sync held by " in err2 and f":{first.pid} (its lease frees at" in err2


def test_sync_command_prints_a_summary_and_a_second_run_is_idle(fake, tmp_path):
    fake.add_tickets(200)
    env = _env(fake, tmp_path / "bugs.db")
    done = run_entry_point("bugtracker", "sync", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "zendesk: fetched 200, inserted 200, updated 0, unchanged 0, failed 0" in done.stdout
    again = run_entry_point("bugtracker", "sync", cwd=tmp_path, env=env)
    assert "zendesk: fetched 0, inserted 0, updated 0, unchanged 0, failed 0 (1 requests" in again.stdout
    assert fake.token not in done.stdout + done.stderr + again.stdout + again.stderr


def test_an_agents_token_is_one_line_saying_zendesk_email_must_be_an_admin(fake, tmp_path):
    fake.add_tickets(3)
    fake.admin = False
    done = run_entry_point(
        "bugtracker", "sync", "--source", "zendesk", cwd=tmp_path, env=_env(fake, tmp_path / "bugs.db")
    )
    assert done.returncode == 1
    assert done.stdout.strip().splitlines() == [
        "zendesk: fetched 0, inserted 0, updated 0, unchanged 0, failed 0 (1 requests, "
        + done.stdout.split("(1 requests, ", 1)[1].split(")", 1)[0]
        + "); stopped: Zendesk answered HTTP 403 to the incremental export: the Zendesk incremental export"
        " needs an admin's API token: ZENDESK_EMAIL must be an admin"
    ]
    assert "Traceback" not in done.stderr and fake.token not in done.stdout + done.stderr
