"""The SQLite file as it is found: written by an older version (no source_version column, aliases without a
state), or locked by another process."""

from __future__ import annotations

import sqlite3

import pytest

from storage.sqlite import SqliteStore
from storage.values import UpsertOutcome
from tests.support.builders import zendesk_record

_OLD_RECORDS = """
CREATE TABLE records (
    source_record TEXT PRIMARY KEY, ticket_id TEXT NOT NULL, home_id TEXT NOT NULL,
    source_system TEXT NOT NULL, record_id TEXT NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, title TEXT NOT NULL, priority TEXT, priority_raw TEXT, state TEXT,
    state_type TEXT, url TEXT, deleted INTEGER NOT NULL DEFAULT 0, attributes TEXT NOT NULL
);
INSERT INTO records VALUES ('zendesk#1', 'ZD-1', 'ZD-1', 'zendesk', '1', '2025-11-28T00:00:01.000000Z',
    '2025-11-28T00:00:01.000000Z', 'Ticket 1', 'High', 'high', 'new', 'unstarted', NULL, 0, '{}');
"""


def test_an_old_file_gets_the_version_column_and_its_records_stay(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(_OLD_RECORDS)
    store = SqliteStore(path)
    stored = store.get_record("zendesk", "1")
    assert (stored.state, stored.source_version) == ("new", None)
    update = zendesk_record(1, status="solved", source_version="2099-01-01T00:00:00.000000Z")
    assert store.upsert(update).outcome is UpsertOutcome.UPDATED
    store.close()
    assert SqliteStore(path).get_record("zendesk", "1").source_version == "2099-01-01T00:00:00.000000Z"


_OLD_LINK = """
CREATE TABLE aliases (
    source_id TEXT PRIMARY KEY, target_id TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL
);
INSERT INTO aliases VALUES ('ZD-2', 'ZD-1', 'U1', '2025-11-28T00:00:02.000000Z');
"""


def test_an_old_files_aliases_are_followed_and_can_be_unlinked(tmp_path):
    """Aliases written before they had a state (moving / linked / unlinking) are links that completed."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(_OLD_RECORDS + _OLD_LINK)
        connection.execute(
            "INSERT INTO records SELECT 'zendesk#2', 'ZD-1', 'ZD-2', 'zendesk', '2', created_at, updated_at,"
            " 'Ticket 2', priority, priority_raw, state, state_type, url, deleted, attributes FROM records"
        )
    store = SqliteStore(path)
    assert store.resolve("ZD-2") == ("ZD-2", "ZD-1")
    assert {r.source_record for r in store.show("ZD-2").records} == {"zendesk#1", "zendesk#2"}
    assert store.unlink("ZD-2", actor="U2").moved == ("zendesk#2",)
    assert [r.source_record for r in store.show("ZD-2").records] == ["zendesk#2"]
    store.close()


def test_a_file_locked_by_another_process_is_one_readable_error_and_nothing_is_lost(tmp_path):
    from storage.errors import StoreUnavailable

    path = tmp_path / "bugs.db"
    SqliteStore(path).init()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing, and does not finish in time
    store = SqliteStore(path, busy_timeout=0.05)
    with pytest.raises(StoreUnavailable, match=r"cannot be used: database is locked$"):
        store.upsert(zendesk_record(1))
    assert store.get_record("zendesk", "1") is None  # readers are not blocked (WAL)
    other.execute("ROLLBACK")
    assert store.upsert(zendesk_record(1)).outcome is UpsertOutcome.INSERTED
    store.close()
    other.close()
