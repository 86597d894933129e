"""Links under pressure: interrupted, watched mid-move, racing upserts and other links. Both stores."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from storage.errors import LinkRefused, TicketNotFound
from storage.sqlite import SqliteStore
from tests.support.builders import slack_record, zendesk_record


class Killed(BaseException):
    """Stands for the process dying: nothing of ours catches it, no cleanup code runs."""


def _kill_after(monkeypatch, store, writes: int) -> None:
    """Let `writes` write steps through, then die in the next one."""
    if isinstance(store, SqliteStore):
        target, name = store, "_audit"  # the last step of the link's one transaction
    else:
        target, name = store, "transact"
    real = getattr(target, name)
    left = {"n": writes}

    def dying(*args, **kwargs):
        if left["n"] == 0:
            raise Killed()
        left["n"] -= 1
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, dying)


def _everything(store, *ticket_ids):
    return Counter(r.source_record for t in ticket_ids for r in store.show(t, include_deleted=True).records)


@pytest.mark.parametrize("writes_before_death", [0, 1, 2])
def test_an_interrupted_link_is_completed_by_running_it_again(store, monkeypatch, writes_before_death):
    store.records_per_transaction = 6  # DynamoDB: 9 records move in two transactions (SQLite: ignored)
    reports = [slack_record(n) for n in range(1, 9)]
    store.upsert_many(reports)
    for report in reports:
        store.link(report.home_id, "ZD-1", actor="U1")
    store.upsert(zendesk_record(1))
    expected = {r.source_record for r in reports} | {"zendesk#1"}

    _kill_after(monkeypatch, store, writes_before_death)
    try:
        store.link("ZD-1", "ZD-2", actor="U1")
        died = False
    except Killed:
        died = True
    monkeypatch.undo()
    # SQLite links in one transaction; DynamoDB here in three (alias, two chunks of moves, the second
    # one also marking the link done)
    assert died == (writes_before_death < (1 if isinstance(store, SqliteStore) else 3))

    # whatever was done so far: every record exactly once, wherever it is
    seen = _everything(store, "ZD-2") if store.resolve("ZD-1")[-1] == "ZD-2" else _everything(store, "ZD-1")
    assert set(seen) == expected and set(seen.values()) == {1}

    result = store.link("ZD-1", "ZD-2", actor="U1")
    assert result.already == (not died)
    after = store.show("ZD-2")
    assert {r.source_record for r in after.records} == expected
    assert len(after.records) == len(expected)
    assert not after.link_in_progress
    assert store.show(reports[0].home_id).alias_chain == (reports[0].home_id, "ZD-1", "ZD-2")


def test_readers_never_see_a_record_missing_or_twice_during_a_link(dynamodb_store, monkeypatch):
    store = dynamodb_store
    store.records_per_transaction = 3
    reports = [slack_record(n) for n in range(1, 13)]
    store.upsert_many(reports)
    for report in reports:
        store.link(report.home_id, "ZD-1", actor="U1")
    expected = sorted(r.source_record for r in reports)
    real = store.transact
    snapshots = []

    def watched(actions):
        for ticket in ("ZD-1", reports[0].home_id, "ZD-2"):
            try:
                snapshots.append(sorted(r.source_record for r in store.show(ticket).records))
            except TicketNotFound:
                assert ticket == "ZD-2" and not snapshots[2:]  # only before the link's first write

        real(actions)

    monkeypatch.setattr(store, "transact", watched)
    store.link("ZD-1", "ZD-2", actor="U1")
    monkeypatch.undo()
    assert len(snapshots) >= 9  # several transactions were watched
    assert all(snapshot == expected for snapshot in snapshots)
    assert sorted(r.source_record for r in store.show("ZD-2").records) == expected


def _run_together(*jobs):
    errors, barrier = [], threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        try:
            job()
        except LinkRefused as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.parametrize("round_number", range(4))
def test_a_link_racing_upserts_of_the_same_record_loses_and_duplicates_nothing(store, round_number):
    report = slack_record(1)
    store.upsert(report)
    store.upsert(zendesk_record(5))
    edits = [slack_record(1, updated=n, text=f"edit {n}") for n in range(1, 6)]

    def edit_all():
        for edit in edits:
            store.upsert(edit)

    _run_together(lambda: store.link(report.home_id, "ZD-5", actor="U1"), edit_all)
    records = store.show("ZD-5").records
    assert sorted(r.source_record for r in records) == sorted(["zendesk#5", report.source_record])
    assert store.get_record("slack", report.record_id).attributes["text"] == "edit 5"
    assert store.show(report.home_id).ticket_id == "ZD-5"


@pytest.mark.parametrize("round_number", range(3))
def test_two_links_racing_make_no_cycle_and_keep_every_record(store, round_number):
    store.upsert(zendesk_record(1))
    store.upsert(zendesk_record(2))
    errors = _run_together(
        lambda: store.link("ZD-1", "ZD-2", actor="U1"), lambda: store.link("ZD-2", "ZD-1", actor="U2")
    )
    assert len(errors) == 1  # exactly one of them won
    winner = store.resolve("ZD-1")[-1]
    assert store.resolve("ZD-2")[-1] == winner
    assert sorted(r.source_record for r in store.show(winner).records) == ["zendesk#1", "zendesk#2"]


def test_two_links_of_one_source_to_different_targets_one_wins(store):
    store.upsert(slack_record(1))
    sl = slack_record(1).home_id
    errors = _run_together(
        lambda: store.link(sl, "ZD-1", actor="U1"), lambda: store.link(sl, "ZD-2", actor="U2")
    )
    assert len(errors) == 1 and "already linked" in str(errors[0])
    chain = store.resolve(sl)
    assert len(store.show(chain[-1]).records) == 1


def test_an_edit_landing_between_a_links_read_and_its_move_is_kept(dynamodb_store, monkeypatch):
    """The race above made deterministic on DynamoDB (SQLite links in one transaction: no window)."""
    store = dynamodb_store
    report, edit = slack_record(1), slack_record(1, updated=5, text="edited while linking")
    store.upsert(report)
    real_partition, fired = store.partition, []

    def partition_then_edit(ticket_id):
        found = real_partition(ticket_id)
        if ticket_id == report.home_id and store.alias_target(ticket_id) and not fired:
            fired.append(True)
            store.upsert(edit)  # after the link read the record, before it moves it
        return found

    monkeypatch.setattr(store, "partition", partition_then_edit)
    store.link(report.home_id, "ZD-5", actor="U1")
    assert fired
    (moved,) = store.show("ZD-5").records
    assert moved.attributes["text"] == "edited while linking"


def test_a_link_landing_between_a_batch_read_and_its_write_leaves_nothing_behind(dynamodb_store, monkeypatch):
    """Batch writes cannot carry conditions: the store checks afterwards and moves what a link left behind."""
    store = dynamodb_store
    report = slack_record(1)
    store.upsert(report)
    store.link(report.home_id, "ZD-5", actor="U1")  # the report names ZD-5 before ZD-5 is pulled
    real_batch_put = store.batch_put

    def link_first(new_items):
        store.link("ZD-5", "ZD-7", actor="U2")  # after the sync read ZD-5 (nothing there), before it writes
        real_batch_put(new_items)

    monkeypatch.setattr(store, "batch_put", link_first)
    (result,) = store.upsert_many([zendesk_record(5)])
    assert result.ticket_id == "ZD-7"
    assert sorted(r.source_record for r in store.show("ZD-5").records) == [
        "slack#" + report.record_id,
        "zendesk#5",
    ]
    assert store.get_record("zendesk", "5").ticket_id == "ZD-7"
