"""The observed store tells its observer every record an operation leaves stored, where it lives, once the
operation is over; a rolled back operation tells nothing (on SQLite, :memory:: no sockets, no moto)."""

from __future__ import annotations

import pytest

from storage.errors import LinkRefused, StoreError
from storage.observed import ObservedStore
from storage.primitives import Write
from storage.sqlite import SqliteStore
from tests.support.builders import slack_record, zendesk_record


@pytest.fixture
def told() -> list[list[tuple[str, str | None]]]:
    return []


@pytest.fixture
def observed(told: list[list[tuple[str, str | None]]]) -> ObservedStore:
    inner = SqliteStore(":memory:")
    inner.init()
    return ObservedStore(
        inner, lambda records: told.append([(r.source_record, r.ticket_id) for r in records])
    )


def test_an_upsert_is_told_where_the_record_lives(observed, told):
    observed.upsert(zendesk_record(1))
    observed.upsert(zendesk_record(1))  # unchanged: nothing written, nothing told
    assert told == [[("zendesk#1", "ZD-1")]]


def test_a_link_tells_each_moved_record_once_under_its_new_ticket(observed, told):
    observed.upsert_many([slack_record(1), slack_record(2), zendesk_record(5)])
    told.clear()
    observed.link(slack_record(1).home_id, "ZD-5", actor="U1")
    assert told == [[("slack#" + slack_record(1).record_id, "ZD-5")]]
    told.clear()
    observed.unlink(slack_record(1).home_id, actor="U1")
    assert told == [[("slack#" + slack_record(1).record_id, slack_record(1).home_id)]]


def test_a_batch_of_new_records_is_told_at_their_homes(observed, told):
    observed.upsert_many([zendesk_record(1), zendesk_record(2)])
    assert told == [[("zendesk#1", "ZD-1"), ("zendesk#2", "ZD-2")]]


def test_a_refused_link_still_tells_the_stored_report(observed, told):
    report = slack_record(3)
    with pytest.raises(LinkRefused):
        observed.upsert_linked(report, report.home_id, "ann")
    assert told == [[(report.source_record, report.home_id)]]


def test_a_rolled_back_operation_tells_nothing(observed, told, monkeypatch):
    real_commit = observed.port.commit
    calls: list[int] = []

    def second_commit_fails(writes: list[Write]) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise StoreError("disk full")
        real_commit(writes)

    monkeypatch.setattr(observed.port, "commit", second_commit_fails)
    observed.upsert(zendesk_record(1))
    told.clear()
    with pytest.raises(StoreError), observed.transaction():
        observed.upsert(zendesk_record(2))  # committed inside the open transaction, then rolled back
        observed.upsert(zendesk_record(3))
    assert told == []
    assert observed.get_record("zendesk", "2") is None
