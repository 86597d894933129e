"""`bugtracker recheck`: a comparison now against the fake Shortcut over HTTP, on SQLite."""

from __future__ import annotations

import json

import pytest

from bot import cli
from bot.sync.runner import run_sync
from tests.fakes.shortcut import FakeShortcut, shortcut_pull


@pytest.fixture
def shortcut(sqlite_store, monkeypatch):
    with FakeShortcut() as fake:
        for story_id in range(1, 13):
            fake.add_story(story_id, archived=story_id > 8)
        run_sync(sqlite_store, shortcut_pull(fake))
        monkeypatch.setenv("BUGTRACKER_DB", str(sqlite_store.path))
        monkeypatch.setenv("SHORTCUT_API_TOKEN", fake.token)
        monkeypatch.setenv("SHORTCUT_API_URL", fake.api_url)
        yield fake


def test_recheck_compares_counts_and_reads_only_the_deleted(shortcut, sqlite_store, capsys):
    shortcut.delete(10)  # archived, then deleted
    shortcut.delete(2)

    def reads() -> int:  # GET /stories/{id}, not POST /stories/search
        return sum(1 for method, path, _ in shortcut.requests if method == "GET" and path[-1:].isdigit())

    before = reads()
    assert cli.execute(["recheck"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("shortcut: rechecked 12, 2 deleted upstream, 0 changed (")
    assert reads() - before == 2  # one read per deleted story, no more
    assert sqlite_store.get_record("shortcut", "10").deleted
    assert sqlite_store.get_record("shortcut", "2").deleted
    assert cli.execute(["recheck", "--source", "shortcut", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["checked"], answer["gone"]) == (10, 0) and answer["requests"] <= 3


def test_a_running_sync_is_waited_for_and_goes_on_between_steps(shortcut, sqlite_store, capsys):
    assert sqlite_store.acquire_lease("sync:shortcut", "build-7:4242:abcd1234", 1.5)
    assert cli.execute(["recheck"]) == 0
    err = capsys.readouterr().err
    assert "waiting for a sync of shortcut to finish (build-7:4242;" in err
    assert sqlite_store.lease_holder("sync:shortcut") is None  # given back after each step
