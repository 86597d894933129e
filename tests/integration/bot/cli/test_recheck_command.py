"""`bugtracker recheck`: the whole rotation at once against the fake Shortcut over HTTP, on SQLite."""

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


def test_recheck_asks_about_every_stored_story_and_marks_the_deleted(shortcut, sqlite_store, capsys):
    shortcut.delete(10)  # archived, then deleted
    shortcut.delete(2)
    before = shortcut.count("/api/v3/stories/")
    assert cli.execute(["recheck"]) == 0
    assert (
        capsys.readouterr().out == "shortcut: rechecked 12, 2 deleted upstream, 0 changed (13 requests)\n"
    )  # + /workflows
    assert shortcut.count("/api/v3/stories/") - before == 12
    assert sqlite_store.get_record("shortcut", "10").deleted
    assert sqlite_store.get_record("shortcut", "2").deleted
    assert cli.execute(["recheck", "--source", "shortcut", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["checked"], answer["gone"], answer["requests"]) == (10, 0, 11)


def test_a_running_sync_makes_recheck_stop_with_a_line_naming_it(shortcut, sqlite_store, capsys):
    assert sqlite_store.acquire_lease("sync:shortcut", "build-7:4242:abcd1234", 60)
    assert cli.execute(["recheck"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("shortcut: not rechecked, a sync of shortcut is running (build-7:4242;")
    assert shortcut.count("/api/v3/stories/") == 0
