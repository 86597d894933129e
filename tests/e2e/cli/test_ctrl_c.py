"""Ctrl-C (SIGINT) as a person presses it: `bugtracker sync` says how to resume and the next run resumes;
the console leaves quietly. Exit 130 both, never a traceback."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from storage.sqlite import SqliteStore
from tests.fakes.zendesk import FakeZendesk
from tests.support.processes import child_env, start_entry_point
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
TICKETS = 2500  # three export pages


def test_ctrl_c_in_sync_says_how_to_resume_and_the_next_run_resumes(tmp_path):
    db = tmp_path / "bugs.db"
    created = SqliteStore(db)
    created.init()
    created.close()
    with FakeZendesk() as fake:
        fake.add_tickets(TICKETS)
        env = child_env(
            ZENDESK_SUBDOMAIN=fake.subdomain, ZENDESK_EMAIL=fake.email, ZENDESK_API_TOKEN=fake.token,
            ZENPY_FORCE_SCHEME="http", ZENPY_FORCE_NETLOC=fake.netloc, BUGTRACKER_DB=str(db),
        )  # fmt: skip
        fake.delay = 0.4  # slow pages, so Ctrl-C lands mid-run
        sync = start_entry_point("bugtracker", "sync", "--source", "zendesk", cwd=tmp_path, env=env)
        wait_until(lambda: fake.pages_served >= 2, timeout=30, interval=0.05)
        sync.send_signal(signal.SIGINT)
        out, err = sync.communicate(timeout=30)
        assert sync.returncode == 130
        assert err.strip().splitlines()[-1] == "interrupted; run it again to resume"
        assert "Traceback" not in err and "KeyboardInterrupt" not in err

        fake.delay = 0
        again = ("--json", "sync", "--source", "zendesk")
        rerun = start_entry_point("bugtracker", *again, cwd=tmp_path, env=env)
        out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err
        summary = json.loads(out)[0]
        assert summary["skipped"] is False  # the interrupted run gave its lease back
        assert summary["fetched"] < TICKETS  # resumed from the saved cursor, not restarted
    store = SqliteStore(db)
    assert store.counts().by_source == {"zendesk": TICKETS}


def test_ctrl_c_at_the_console_leaves_quietly(tmp_path):
    env = child_env(BUGTRACKER_DB=str(tmp_path / "bugs.db"))
    console = start_entry_point("bot", cwd=tmp_path, env=env, stdin=subprocess.PIPE)
    console.stdin.write("Crash on save priority=High\n")
    console.stdin.flush()
    wait_until(lambda: (tmp_path / "bugs.db").exists(), timeout=20)
    wait_until(lambda: SqliteStore(tmp_path / "bugs.db").counts().total == 1, timeout=20, interval=0.1)
    console.send_signal(signal.SIGINT)
    out, err = console.communicate(timeout=30)
    assert console.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "Traceback" not in out, err
