"""Deleted is terminal (bot/tombstones.py): a deletion is recorded before anything else, and no insert, edit,
retry or sweep that lands after it brings the words back, on both stores. On SQLite, the words are gone
from the file and its WAL too (secure_delete, a checkpoint after erasing)."""

from __future__ import annotations

import sqlite3

import pytest

from bot.slack.delivery import route
from bot.slack.intake import Intake
from bot.slack.retry import event_key
from storage.errors import StoreUnavailable
from storage.sqlite import SqliteStore

CHANNEL, TS = "C0BUGS", "1764300001.000001"
WORDS = "Payroll export shows every salary"


def message(text: str = WORDS, **extra) -> dict:
    return {"type": "message", "user": "U0ALICE", "text": text, "ts": TS, "channel": CHANNEL, **extra}


def deletion() -> dict:
    return {"type": "message", "subtype": "message_deleted", "channel": CHANNEL, "deleted_ts": TS,
            "previous_message": message(), "event_ts": "1764300009.000009"}  # fmt: skip


def edit(text: str) -> dict:
    edited = message(text, edited={"user": "U0ALICE", "ts": "1764300010.000010"})
    return {"type": "message", "subtype": "message_changed", "channel": CHANNEL, "message": edited,
            "previous_message": message(), "event_ts": "1764300010.000010"}  # fmt: skip


def words_stored(store) -> bool:
    record = store.get_record("slack", TS)
    return record is not None and (WORDS in record.title or WORDS in str(record.attributes))


def test_a_deletion_that_arrives_before_its_insert_is_honoured_by_the_insert(store):
    intake = Intake(store)
    route(intake, deletion(), CHANNEL, None)  # nothing stored yet: its erased copy is, dated by the deletion
    assert store.get_record("slack", TS).deleted and not words_stored(store)
    result = route(intake, message(), CHANNEL, None)  # the insert that waited on the store lands late
    assert result is not None and not result.reply  # older than the deletion: nothing written, no answer
    assert not words_stored(store) and store.get_record("slack", TS).deleted


def test_a_late_edit_after_an_erase_stays_erased(store):
    intake = Intake(store)
    route(intake, message(), CHANNEL, None)
    intake.delete_message({"deleted_ts": TS}, CHANNEL)  # as the sweep erases a report gone from history
    route(intake, edit(WORDS + " (edited)"), CHANNEL, None)
    assert not words_stored(store) and store.get_record("slack", TS).deleted


def test_the_retry_queue_keys_a_deletion_apart_from_its_insert():
    assert event_key(deletion(), CHANNEL) != event_key(message(), CHANNEL)
    assert event_key(deletion(), CHANNEL) == event_key({"deleted_ts": TS}, CHANNEL)


@pytest.mark.parametrize("order", ["insert first", "delete first"])
def test_deleted_while_sqlite_is_locked_leaves_no_words_in_any_table_or_the_wal(tmp_path, order):
    path = tmp_path / "bugs.db"
    store = SqliteStore(path, busy_timeout=0.2)
    store.init()
    intake = Intake(store)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process (a `bugtracker sync`) holds the write lock
    waiting = []
    for event in (message(), deletion()):
        with pytest.raises(StoreUnavailable):  # both fail while locked: both wait in the retry queue
            route(intake, event, CHANNEL, None)
        waiting.append(event)
    assert len({event_key(event, CHANNEL) for event in waiting}) == 2  # neither replaces the other
    holder.execute("ROLLBACK")
    holder.close()
    for event in waiting if order == "insert first" else reversed(waiting):
        route(intake, event, CHANNEL, None, retried=True)
    assert not words_stored(store) and store.get_record("slack", TS).deleted
    for file in tmp_path.iterdir():  # while the bot runs: the database, its WAL, shared memory
        assert WORDS.encode() not in file.read_bytes(), file.name
    store.close()
