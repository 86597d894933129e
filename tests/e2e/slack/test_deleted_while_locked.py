"""Deleted is terminal, end to end: the bot as a process on an SQLite file that another process (a
`bugtracker sync`, say) holds locked for 8 s while a report arrives and is deleted. Once the lock is gone,
the report is stored as deleted and its words are in no table, no WAL, no shared memory of the file.

The erase's commit is seen by other connections before the checkpoint behind it can empty the WAL (a
checkpoint needs that commit), so the files are read until the words are gone, within a bound, while the
bot runs: a checkpoint abandoned or never owed fails here, as no later write of the bot empties the WAL."""

from __future__ import annotations

import sqlite3
import subprocess
import time

import pytest

from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support.processes import child_env, start_entry_point, stop_bot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"
WORDS = "Payroll export shows every salary of the board"
LOCKED_SECONDS = 8.0  # the scenario: how long the other process holds the write lock (under the 10 s wait)


def test_a_message_deleted_while_sqlite_is_locked_keeps_no_words_anywhere(tmp_path):
    path = tmp_path / "bugs.db"
    SqliteStore(path).init()
    with FakeSlack(members={CHANNEL: ["U0ALICE"]}) as fake:
        variables = dict(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_APP_TOKEN="xapp-test-token",
                         SLACK_CHANNEL_ID=CHANNEL, SLACK_API_URL=fake.api_url, BUGTRACKER_DB=str(path),
                         LOG_LEVEL="DEBUG")  # fmt: skip
        process = start_entry_point("bot", cwd=tmp_path, env=child_env(**variables), stderr=subprocess.STDOUT)
        output = ""
        try:
            fake.wait_for(lambda: fake.connections, timeout=30)
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # the other process's write lock
            locked_until = time.monotonic() + LOCKED_SECONDS
            message, posted = fake.post(CHANNEL, WORDS, "U0ALICE")
            deleted = fake.push_event({**fake.delete(CHANNEL, message["ts"]), "channel_type": "channel"})
            fake.wait_for(lambda: posted in fake.acks and deleted in fake.acks, timeout=5)
            time.sleep(max(0.0, locked_until - time.monotonic()))  # the scenario's lock, not a wait to assert
            holder.execute("ROLLBACK")
            holder.close()
            store = SqliteStore(path)
            stored = wait_until(
                lambda: (r := store.get_record("slack", message["ts"])) and r.deleted and r, 30
            )
            assert WORDS not in str(stored.attributes) and not stored.title
            if not _gone_from_files(tmp_path):
                raise AssertionError(f"the words are still stored: {_where_found(tmp_path)}")
            store.close()
        finally:
            output = stop_bot(process)
        assert "every salary" not in output  # LOG_LEVEL=DEBUG keeps no words either


def _where_found(directory) -> list[tuple[str, bytes]]:
    """The store's files (the database, its WAL, its shared memory) holding the words, with where they are."""
    found = []
    for file in sorted(directory.iterdir()):
        if file.name.startswith("bugs.db"):
            data = file.read_bytes()
            if (at := data.find(b"every salary")) >= 0:
                found.append((file.name, data[max(0, at - 400) : at + 200]))
    return found


def _gone_from_files(directory) -> bool:
    try:
        return bool(wait_until(lambda: not _where_found(directory), 30))
    except AssertionError:
        return False
