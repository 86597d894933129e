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
        target, name = store.port, "_audit"  # the last step of the link's one transaction
    else:
        target, name = store.port, "transact"
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
    store.port.records_per_transaction = 6  # DynamoDB: 9 records move in two transactions (SQLite: ignored)
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
    store.port.records_per_transaction = 3
    reports = [slack_record(n) for n in range(1, 13)]
    store.upsert_many(reports)
    for report in reports:
        store.link(report.home_id, "ZD-1", actor="U1")
    expected = sorted(r.source_record for r in reports)
    real = store.port.transact
    snapshots = []

    def watched(actions):
        for ticket in ("ZD-1", reports[0].home_id, "ZD-2"):
            try:
                snapshots.append(sorted(r.source_record for r in store.show(ticket).records))
            except TicketNotFound:
                assert ticket == "ZD-2" and not snapshots[2:]  # only before the link's first write

        real(actions)

    monkeypatch.setattr(store.port, "transact", watched)
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
    real_partition, fired = store.port.partition, []

    def partition_then_edit(ticket_id):
        found = real_partition(ticket_id)
        if ticket_id == report.home_id and store.port.alias_target(ticket_id) and not fired:
            fired.append(True)
            store.upsert(edit)  # after the link read the record, before it moves it
        return found

    monkeypatch.setattr(store.port, "partition", partition_then_edit)
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
    real_batch_put = store.port.batch_put

    def link_first(new_items):
        store.link("ZD-5", "ZD-7", actor="U2")  # after the sync read ZD-5 (nothing there), before it writes
        real_batch_put(new_items)

    monkeypatch.setattr(store.port, "batch_put", link_first)
    (result,) = store.upsert_many([zendesk_record(5)])
    assert result.ticket_id == "ZD-7"
    assert sorted(r.source_record for r in store.show("ZD-5").records) == [
        "slack#" + report.record_id,
        "zendesk#5",
    ]
    assert store.get_record("zendesk", "5").ticket_id == "ZD-7"


def _run_all(*jobs):
    """Run the jobs at once; every exception they raise, whatever its type (a leak fails the test)."""
    raised, barrier = [], threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        try:
            job()
        except BaseException as exc:  # collected, and asserted on by the test
            raised.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing call never returned"
    return raised


def _assert_each_record_once_where_it_resolves(store, records):
    """The placement rule: every record is stored once, under the end of its home id's alias chain."""
    for record in records:
        stored = store.get_record(record.source_system, record.record_id)
        where = store.resolve(record.home_id)[-1]
        assert stored.ticket_id == where, (record.source_record, stored.ticket_id, where)
        shown = [r.source_record for r in store.show(where, include_deleted=True).records]
        assert shown.count(record.source_record) == 1, (record.source_record, where, shown)


@pytest.mark.parametrize("round_number", range(3))
def test_two_unlinks_racing_one_wins_the_other_is_told_it_is_not_linked(store, round_number):
    reports = [slack_record(n) for n in range(1, 4)]
    store.upsert_many([*reports, zendesk_record(5)])
    store.link("ZD-5", "ZD-7", actor="U1")  # ZD-5's records (and every report) end under ZD-7 via ZD-5
    for report in reports:
        store.link(report.home_id, "ZD-5", actor="U1")
    raised = _run_all(lambda: store.unlink("ZD-5", actor="U1"), lambda: store.unlink("ZD-5", actor="U2"))
    assert len(raised) == 1 and isinstance(raised[0], LinkRefused), raised
    assert "not linked" in str(raised[0])
    assert store.resolve("ZD-5") == ("ZD-5",)
    assert {r.source_record for r in store.show("ZD-5").records} == {
        "zendesk#5",
        *(r.source_record for r in reports),
    }
    _assert_each_record_once_where_it_resolves(store, [*reports, zendesk_record(5)])
    assert [e.action for e in store.show("ZD-5").audit] == ["link", "unlink"]  # one unlink was done


def test_an_unlink_losing_its_race_is_a_refusal_not_an_internal_error(dynamodb_store, monkeypatch):
    """The race above made deterministic on DynamoDB: the other unlink lands between this one's read and
    its write (SQLite unlinks in one serialised transaction: no window). It used to leak ConditionFailed."""
    store = dynamodb_store
    store.upsert(slack_record(1))
    sl = slack_record(1).home_id
    store.link(sl, "ZD-5", actor="U1")
    real_commit, fired = store.port.commit, []

    def other_unlink_first(writes):
        if not fired:
            fired.append(True)
            store.unlink(sl, actor="U2")
        real_commit(writes)

    monkeypatch.setattr(store.port, "commit", other_unlink_first)
    with pytest.raises(LinkRefused, match="not linked"):
        store.unlink(sl, actor="U1")
    monkeypatch.undo()
    assert fired
    assert store.show(sl).records[0].ticket_id == sl
    assert [(e.action, e.actor) for e in store.show(sl).audit] == [("link", "U1"), ("unlink", "U2")]


@pytest.mark.parametrize("round_number", range(3))
def test_an_unlink_racing_a_link_of_its_target_keeps_every_record_where_it_resolves(store, round_number):
    """SL-1 -> ZD-5; at once: unlink SL-1 (its report goes home) and link ZD-5 -> ZD-7 (ZD-5's go on)."""
    report = slack_record(1)
    store.upsert_many([report, zendesk_record(5), zendesk_record(7)])
    store.link(report.home_id, "ZD-5", actor="U1")
    raised = _run_all(
        lambda: store.unlink(report.home_id, actor="U1"), lambda: store.link("ZD-5", "ZD-7", actor="U2")
    )
    assert raised == []
    assert store.resolve(report.home_id) == (report.home_id,)
    assert store.resolve("ZD-5") == ("ZD-5", "ZD-7")
    assert [r.source_record for r in store.show(report.home_id).records] == [report.source_record]
    assert {r.source_record for r in store.show("ZD-7").records} == {"zendesk#5", "zendesk#7"}
    _assert_each_record_once_where_it_resolves(store, [report, zendesk_record(5), zendesk_record(7)])


@pytest.mark.parametrize("round_number", range(3))
def test_an_unlink_racing_a_relink_of_the_same_id_ends_in_one_consistent_place(store, round_number):
    """SL-1 -> ZD-5; at once: unlink SL-1 and link SL-1 -> ZD-6. The link is refused (still linked) or
    runs after the unlink; either way the report is stored once, where its id resolves."""
    report = slack_record(1)
    store.upsert_many([report, zendesk_record(5), zendesk_record(6)])
    store.link(report.home_id, "ZD-5", actor="U1")
    raised = _run_all(
        lambda: store.unlink(report.home_id, actor="U1"), lambda: store.link(report.home_id, "ZD-6", "U2")
    )
    assert all(isinstance(exc, LinkRefused) for exc in raised), raised
    assert len(raised) <= 1
    expected_chain = (report.home_id,) if raised else (report.home_id, "ZD-6")
    assert store.resolve(report.home_id) == expected_chain
    _assert_each_record_once_where_it_resolves(store, [report, zendesk_record(5), zendesk_record(6)])
    assert [r.source_record for r in store.show("ZD-5").records] == ["zendesk#5"]


@pytest.mark.parametrize("round_number", range(3))
def test_an_unlink_racing_a_link_into_the_unlinked_id(store, round_number):
    """ZD-1 -> ZD-2; at once: unlink ZD-1 and link SL-1 -> ZD-1 (whose records are on their way back)."""
    report = slack_record(1)
    store.upsert_many([report, zendesk_record(1), zendesk_record(2)])
    store.link("ZD-1", "ZD-2", actor="U1")
    raised = _run_all(
        lambda: store.unlink("ZD-1", actor="U1"), lambda: store.link(report.home_id, "ZD-1", actor="U2")
    )
    assert raised == []
    assert store.resolve("ZD-1") == ("ZD-1",)
    assert store.resolve(report.home_id) == (report.home_id, "ZD-1")
    assert {r.source_record for r in store.show("ZD-1").records} == {"zendesk#1", report.source_record}
    _assert_each_record_once_where_it_resolves(store, [report, zendesk_record(1), zendesk_record(2)])


@pytest.mark.parametrize("writes_before_death", [0, 1, 2])
def test_an_interrupted_unlink_is_completed_by_running_it_again(store, monkeypatch, writes_before_death):
    store.port.records_per_transaction = 3  # DynamoDB: 5 records move back in two transactions
    reports = [slack_record(n) for n in range(1, 5)]
    store.upsert_many([*reports, zendesk_record(1)])
    for report in reports:
        store.link(report.home_id, "ZD-1", actor="U1")
    store.link("ZD-1", "ZD-2", actor="U1")

    _kill_after(monkeypatch, store, writes_before_death)
    try:
        store.unlink("ZD-1", actor="U1")
        died = False
    except Killed:
        died = True
    monkeypatch.undo()
    # SQLite unlinks in one transaction; DynamoDB here in three (alias unlinking, two batches of moves, the
    # second one also removing the alias)
    assert died == (writes_before_death < (1 if isinstance(store, SqliteStore) else 3))
    # whatever was done so far: ZD-1 shows every record that belongs to it, each once, wherever it is now
    seen = _everything(store, "ZD-1")
    assert set(seen) == {r.source_record for r in [*reports, zendesk_record(1)]} and set(seen.values()) == {1}
    _assert_each_record_stored_once(store, [*reports, zendesk_record(1)])

    if died:
        result = store.unlink("ZD-1", actor="U1")
        assert result.resolved_target == "ZD-2"
    else:
        with pytest.raises(LinkRefused, match="not linked"):
            store.unlink("ZD-1", actor="U1")
    assert store.resolve("ZD-1") == ("ZD-1",)
    assert len(store.show("ZD-1").records) == 5
    assert store.show("ZD-2").records == ()
    _assert_each_record_once_where_it_resolves(store, [*reports, zendesk_record(1)])
    assert [e.action for e in store.show("ZD-1").audit][-1] == "unlink"


def _assert_each_record_stored_once(store, records):
    """Wherever each record is, it is stored once: under one ticket id, which shows it once."""
    for record in records:
        stored = store.get_record(record.source_system, record.record_id)
        shown = [r.source_record for r in store.port.read_partition(stored.ticket_id).records]
        assert shown.count(record.source_record) == 1, (record.source_record, stored.ticket_id)


def test_readers_never_see_a_record_missing_or_twice_during_an_unlink(dynamodb_store, monkeypatch):
    store = dynamodb_store
    store.port.records_per_transaction = 3
    reports = [slack_record(n) for n in range(1, 11)]
    store.upsert_many([*reports, zendesk_record(1), zendesk_record(2)])
    for report in reports:
        store.link(report.home_id, "ZD-1", actor="U1")
    store.link("ZD-1", "ZD-2", actor="U1")
    back = sorted([*(r.source_record for r in reports), "zendesk#1"])
    real = store.port.transact
    snapshots = []

    def watched(actions):
        snapshots.append(
            (
                sorted(r.source_record for r in store.show("ZD-1").records),
                sorted(r.source_record for r in store.show(reports[0].home_id).records),
                Counter(r.source_record for r in store.show("ZD-2").records),
            )
        )
        real(actions)

    monkeypatch.setattr(store.port, "transact", watched)
    store.unlink("ZD-1", actor="U1")
    monkeypatch.undo()
    assert len(snapshots) >= 4  # the alias turning unlinking, then 4 batches of moves back
    before, *during = snapshots
    assert before[0] == before[1] == sorted([*back, "zendesk#2"])  # still linked: ZD-1 shows ZD-2
    assert all(ours == back and via_report == back for ours, via_report, _ in during)
    assert all(set(theirs.values()) == {1} and "zendesk#2" in theirs for _, _, theirs in snapshots)
    assert sorted(r.source_record for r in store.show("ZD-1").records) == back
    assert [r.source_record for r in store.show("ZD-2").records] == ["zendesk#2"]
