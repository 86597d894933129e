"""upsert_many, written once above the port: one batched read of the stored copies, new records written
together, the careful path for the rest (SQLite in memory: no sockets, no moto)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from storage.model import BugRecord
from storage.primitives import Write
from storage.sqlite import SqliteStore
from storage.values import UpsertOutcome
from tests.support.builders import slack_record, zendesk_record


@pytest.fixture
def store() -> SqliteStore:
    memory = SqliteStore(":memory:")
    memory.init()
    return memory


def _watch(store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """How many records each batched read and each write of the port was given."""
    seen: dict[str, list[int]] = {"read_records": [], "put_new_records": [], "commit": []}
    port = store.port
    real_read, real_put, real_commit = port.read_records, port.put_new_records, port.commit

    def read_records(records: Sequence[BugRecord]) -> dict[str, BugRecord | None]:
        seen["read_records"].append(len(records))
        return real_read(records)

    def put_new_records(records: Sequence[BugRecord]) -> None:
        seen["put_new_records"].append(len(records))
        real_put(records)

    def commit(writes: list[Write]) -> None:
        seen["commit"].append(len(writes))
        real_commit(writes)

    monkeypatch.setattr(port, "read_records", read_records)
    monkeypatch.setattr(port, "put_new_records", put_new_records)
    monkeypatch.setattr(port, "commit", commit)
    return seen


def test_new_records_are_read_once_and_written_together(store, monkeypatch):
    seen = _watch(store, monkeypatch)
    results = store.upsert_many([zendesk_record(n) for n in range(1, 6)])
    assert [r.outcome for r in results] == [UpsertOutcome.INSERTED] * 5
    assert seen["read_records"] == [5] and seen["put_new_records"] == [5]
    assert store.counts().total == 5


def test_an_unchanged_batch_writes_nothing(store, monkeypatch):
    store.upsert_many([zendesk_record(n) for n in range(1, 4)])
    seen = _watch(store, monkeypatch)
    results = store.upsert_many([zendesk_record(n) for n in range(1, 4)])
    assert [r.outcome for r in results] == [UpsertOutcome.UNCHANGED] * 3
    assert seen == {"read_records": [3], "put_new_records": [], "commit": []}


def test_a_repeated_record_is_applied_in_order_and_a_newer_copy_wins(store):
    first, newer = zendesk_record(1), zendesk_record(1, updated=5, status="solved")
    results = store.upsert_many([first, newer, first])
    assert [r.outcome for r in results] == ["inserted", "updated", "stale"]
    assert store.get_record("zendesk", "1").state == "solved"


def test_a_newer_copy_of_a_linked_record_is_written_where_it_lives(store):
    report = slack_record(1)
    store.upsert(report)
    store.upsert(zendesk_record(5))
    store.link("ZD-5", report.home_id, actor="U1")  # ZD-5's records now live under the report's id
    (result,) = store.upsert_many([zendesk_record(5, updated=1, title="renamed")])
    assert (result.outcome, result.ticket_id) == ("updated", report.home_id)
    assert store.get_record("zendesk", "5").title == "renamed"
