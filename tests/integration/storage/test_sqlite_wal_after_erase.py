"""After an erase the SQLite store empties its WAL (storage/sqlite.py, `_WalEmptier`), also when a reader of
another connection holds an older snapshot and the truncating checkpoint cannot complete yet: the erase and
the store's other reads and writes do not wait for that reader, and the words leave the WAL and the file as
soon as it is done, with no further erase or write to trigger it."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace

from storage.sqlite import SqliteStore
from storage.values import UpsertOutcome
from tests.support.builders import slack_record
from tests.support.waiting import wait_until

WORDS = "Payroll export shows every salary of the board"


def _files_holding(directory, words: str) -> list[str]:
    """The store's files (the database, its WAL, its shared memory) in which the words are found."""
    return sorted(f.name for f in directory.iterdir() if words.encode() in f.read_bytes())


def _erased(stored):
    return replace(stored, title="", attributes={"channel": "C0BUGS"}, deleted=True, ticket_id=None)


def test_the_wal_is_emptied_after_an_erase_once_a_reader_holding_an_older_snapshot_is_done(tmp_path):
    store = SqliteStore(tmp_path / "bugs.db")
    store.upsert(slack_record(1, text=WORDS))
    stored = store.get_record("slack", slack_record(1).record_id)
    reader = sqlite3.connect(
        tmp_path / "bugs.db", isolation_level=None
    )  # another process, a `bugtracker show`
    reader.execute("BEGIN")
    assert reader.execute("SELECT title FROM records").fetchall() == [(WORDS,)]  # it holds this snapshot

    assert store.erase(
        stored, _erased(stored)
    )  # its checkpoint finds the reader in the way: owed, not awaited
    assert store.upsert(slack_record(2)).outcome is UpsertOutcome.INSERTED  # the store goes on meanwhile
    assert WORDS not in str(store.get_record("slack", stored.record_id))
    assert "bugs.db-wal" in _files_holding(tmp_path, WORDS)  # the reader still reads those frames

    reader.execute("COMMIT")
    wait_until(lambda: not _files_holding(tmp_path, WORDS), timeout=30)
    assert (tmp_path / "bugs.db-wal").stat().st_size == 0  # truncated: no older frame is left either
    reader.close()
    store.close()


def test_erases_owed_while_a_reader_holds_its_snapshot_are_all_settled_and_close_does_not_hang(tmp_path):
    """Several erases from several threads while the reader holds: one completed checkpoint after them settles
    them all; close() while one is still owed returns (and tries once more)."""
    store = SqliteStore(tmp_path / "bugs.db")
    records = [slack_record(n, text=f"{WORDS} #{n}") for n in range(1, 5)]
    store.upsert_many(records)
    reader = sqlite3.connect(tmp_path / "bugs.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM records").fetchall()

    def erase(record) -> None:
        stored = store.get_record("slack", record.record_id)
        assert store.erase(stored, _erased(stored))

    threads = [threading.Thread(target=erase, args=(record,)) for record in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.port._emptier.owed()  # the reader is still in the way
    reader.execute("COMMIT")
    wait_until(lambda: not _files_holding(tmp_path, WORDS), timeout=30)
    wait_until(lambda: not store.port._emptier.owed(), timeout=30)  # settled as its checkpoint returns

    stored = store.upsert(slack_record(9, text=WORDS)) and store.get_record(
        "slack", slack_record(9).record_id
    )
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM records").fetchall()
    assert store.erase(stored, _erased(stored))
    store.close()  # owed still, the reader holds: close stops retrying and returns
    reader.execute("COMMIT")
    reader.close()
    assert not _files_holding(tmp_path, WORDS)  # the last connection to close emptied the WAL
