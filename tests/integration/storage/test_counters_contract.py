"""Counts kept on the write path (storage/counters.py), identical on both stores: after every kind of write
the kept counters equal a recount from the records, the recount corrects drift, and a batch killed midway
is made exact by the recount."""

from __future__ import annotations

from dataclasses import replace

import pytest

from storage import counters
from storage.store import RECOUNT_META
from tests.support.builders import shortcut_record, slack_record, zendesk_record


def exact(store) -> dict[str, int]:
    """The kept counters, checked equal to a count of every record from scratch."""
    kept = store.read_counters()
    assert kept == counters.tally(store.scan_records())
    return kept


def test_every_kind_of_write_keeps_the_counters_exact(store):
    store.upsert_many([zendesk_record(n, priority="High") for n in range(1, 6)] + [slack_record(7)])
    store.upsert(shortcut_record(8, state="Backlog", state_type="backlog"))
    kept = exact(store)
    assert kept["total"] == 7 and kept["priority:High"] == 5 and kept["state_type:backlog"] == 1
    assert kept["slack:unlinked"] == 1

    store.upsert(zendesk_record(1, updated=10, priority="Low"))  # priority
    store.upsert(zendesk_record(2, updated=10, status="solved"))  # state and state type
    store.upsert(zendesk_record(3, updated=10, status="deleted"))  # deleted upstream
    store.upsert(shortcut_record(8, updated=10, state="archived", state_type="done"))  # archived story
    kept = exact(store)
    assert (kept["total"], kept["deleted"]) == (6, 1)
    assert kept["priority:Low"] == 1 and kept["priority:High"] == 3
    assert kept["state:solved"] == 1 and kept["state_type:done"] == 2
    assert kept["open_priority:High"] == 2  # 4 and 5; 2 is solved, 3 deleted, 1 is Low

    store.link(slack_record(7).home_id, "ZD-4", actor="U1")
    assert (exact(store)["slack:linked"], store.counts().slack_unlinked) == (1, 0)
    store.unlink(slack_record(7).home_id, actor="U1")
    assert (store.counts().slack_linked, exact(store)["slack:unlinked"]) == (0, 1)

    store.upsert_linked(slack_record(9), "ZD-5", actor="U1")  # a tagged report: under the ticket at once
    kept = exact(store)
    assert (kept["slack:linked"], kept["slack:unlinked"], kept["total"]) == (1, 1, 7)


def test_counts_and_new_per_day_come_from_the_counters(store):
    day = 86_400
    store.upsert_many([zendesk_record(1), zendesk_record(2, created_at=zendesk_record(2 + day).created_at)])
    first, second = zendesk_record(1).created_at[:10], zendesk_record(2 + day).created_at[:10]
    assert store.new_per_day(first, second) == {"zendesk": {first: 1, second: 1}}
    store.upsert(
        zendesk_record(2, updated=5, created_at=zendesk_record(2 + day).created_at, status="deleted")
    )
    assert store.new_per_day(first, second) == {"zendesk": {first: 1}}  # a deletion leaves its day
    assert store.new_per_day(f"{second}T08:00:00Z", second) == {}  # a timestamp counts its whole day
    assert store.counts().total == 1 and store.counts().deleted == 1


def test_recount_finds_and_corrects_drift_and_keeps_the_result(store):
    store.upsert_many([zendesk_record(n) for n in range(1, 4)] + [slack_record(5)])
    assert store.recount() == {}
    store.adjust_counters({"total": 5, "priority:High": -1, "state:bogus": 2})  # drift, as a crash leaves
    assert store.counts().total == 9

    drift = store.recount()

    assert drift == {"priority:High": 1, "state:bogus": -2, "total": -5}
    assert store.counts().total == 4 and "bogus" not in store.counts().by_state
    exact(store)
    saved = store.get_meta(RECOUNT_META)
    assert saved["drift"] == 8 and saved["counters"] == drift and saved["uncorrected"] == []


class Died(BaseException):
    """The process dying mid-batch: not an Exception, nothing catches it on the way out."""


def test_a_batch_killed_midway_is_made_exact_by_the_recount(store, monkeypatch):
    store.upsert_many([zendesk_record(n) for n in range(1, 4)])
    batch = [zendesk_record(n, priority="Low") for n in range(10, 70)]
    if hasattr(store.port, "batch_put"):  # DynamoDB: BatchWriteItem in 25s, then one counter update
        real, calls = store.port.call, []

        def dying(operation, **kwargs):
            if operation == "batch_write_item":
                calls.append(operation)
                if len(calls) == 2:
                    raise Died  # after 25 records were written, before the batch's counter update
            return real(operation, **kwargs)

        monkeypatch.setattr(store.port, "call", dying)
    else:  # SQLite: one transaction per batch; die after some of its records were inserted
        real_commit, commits = store.port.commit, []

        def dying(writes):
            commits.append(writes)
            if len(commits) == 30:
                raise Died
            real_commit(writes)

        monkeypatch.setattr(store.port, "commit", dying)
    with pytest.raises(Died):
        store.upsert_many(batch)
    monkeypatch.undo()

    stored = sum(1 for _ in store.scan_records())
    drift = store.recount()

    counts = store.counts()
    assert counts.total == stored == (3 + 25 if hasattr(store.port, "batch_put") else 3)
    # DynamoDB: the 25 written records were never counted; SQLite: the batch's transaction rolled back
    assert drift == (counters.tally(batch[:25]) if hasattr(store.port, "batch_put") else {})
    exact(store)
    store.upsert_many(batch)  # the rerun: the rest of the batch, counted once
    assert store.counts().total == 63 and exact(store)["priority:Low"] == 60


def test_archived_and_deleted_records_are_counted_but_never_listed_by_default(store):
    store.upsert_many(
        [
            shortcut_record(1, state="archived", state_type="done"),
            shortcut_record(2),
            replace(shortcut_record(3), deleted=True),
        ]
    )
    assert [r.record_id for r in store.list_records(source="shortcut").records] == ["2"]
    assert [r.record_id for r in store.list_records(state="archived").records] == ["1"]
    assert store.counts().by_state == {"archived": 1, "In Progress": 1} and store.counts().deleted == 1
