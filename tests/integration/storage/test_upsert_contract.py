"""Upsert semantics, identical on both stores: newer-wins, idempotent, aliases followed."""

from __future__ import annotations

from dataclasses import replace

from storage.values import UpsertOutcome
from tests.support.builders import shortcut_record, slack_record, zendesk_record


def test_insert_then_identical_copy_changes_nothing(store):
    record = zendesk_record(1)
    assert store.upsert(record).outcome is UpsertOutcome.INSERTED
    assert store.upsert(record).outcome is UpsertOutcome.UNCHANGED
    stored = store.get_record("zendesk", "1")
    assert stored.same_content(record)
    assert stored.ticket_id == "ZD-1"
    assert len(store.show("ZD-1").records) == 1


def test_newer_copy_wins_and_older_copy_never_overwrites(store):
    store.upsert(zendesk_record(1, status="open"))
    newer = zendesk_record(1, updated=60, status="solved")
    assert store.upsert(newer).outcome is UpsertOutcome.UPDATED
    older = zendesk_record(1, updated=30, status="pending")
    assert store.upsert(older).outcome is UpsertOutcome.STALE
    stored = store.get_record("zendesk", "1")
    assert stored.state == "solved"
    assert stored.state_type == "done"


def test_same_timestamp_different_content_is_not_taken(store):
    store.upsert(zendesk_record(1, status="open"))
    rival = zendesk_record(1, status="hold")
    assert store.upsert(rival).outcome is UpsertOutcome.STALE
    assert store.get_record("zendesk", "1").state == "open"


def _version(seconds: int) -> str:
    from storage.model import timestamp_from_epoch
    from tests.support.builders import BASE_EPOCH

    return timestamp_from_epoch(BASE_EPOCH + seconds)


def test_a_newer_source_version_wins_though_updated_at_did_not_move(store):
    # A Zendesk system update: same updated_at, new generated_timestamp (source_version), new status.
    store.upsert(zendesk_record(1, status="new", source_version=_version(10)))
    system_update = zendesk_record(1, status="solved", source_version=_version(20))
    assert store.upsert(system_update).outcome is UpsertOutcome.UPDATED
    stored = store.get_record("zendesk", "1")
    assert (stored.state, stored.source_version) == ("solved", _version(20))
    older = zendesk_record(1, updated=15, status="open", source_version=_version(15))
    assert store.upsert(older).outcome is UpsertOutcome.STALE
    assert (
        store.upsert_many([older, zendesk_record(1, status="closed", source_version=_version(30))])[1].outcome
        is UpsertOutcome.UPDATED
    )
    assert store.get_record("zendesk", "1").state == "closed"


def test_a_record_stored_without_a_version_is_compared_by_updated_at(store):
    store.upsert(zendesk_record(1, status="new"))  # stored before versions existed
    newer = zendesk_record(1, status="open", source_version=_version(1 + 5))
    assert store.upsert(newer).outcome is UpsertOutcome.UPDATED
    same_time = zendesk_record(1, status="hold", source_version=_version(1 + 5))
    assert store.upsert(same_time).outcome is UpsertOutcome.STALE


def test_a_versioned_record_moves_with_a_link_and_keeps_its_version(store):
    store.upsert(zendesk_record(7, source_version=_version(50)))
    store.upsert(zendesk_record(8))
    store.link("ZD-7", "ZD-8", "ann")
    moved = store.get_record("zendesk", "7")
    assert (moved.ticket_id, moved.source_version) == ("ZD-8", _version(50))
    update = zendesk_record(7, status="solved", source_version=_version(60))
    assert store.upsert(update).outcome is UpsertOutcome.UPDATED
    assert store.get_record("zendesk", "7").state == "solved"


def test_attributes_round_trip_with_nested_values(store):
    record = zendesk_record(
        7, attributes={"subject": "Crash", "tags": ["ios", "p1"], "requester": {"name": "Ann", "n": 2.5}}
    )
    store.upsert(record)
    assert store.get_record("zendesk", "7").attributes == record.attributes


def test_deleted_upstream_is_kept_but_hidden_by_default(store):
    store.upsert(zendesk_record(3))
    store.upsert(zendesk_record(3, updated=10, status="deleted"))
    assert store.show("ZD-3").records == ()
    (kept,) = store.show("ZD-3", include_deleted=True).records
    assert kept.deleted and kept.state == "deleted"


def test_upsert_many_reports_each_outcome_and_writes_only_changes(store):
    store.upsert_many([zendesk_record(n) for n in range(1, 6)])
    batch = [
        zendesk_record(1),  # unchanged
        zendesk_record(2, updated=5, status="solved"),  # updated
        zendesk_record(3, updated=-5, status="hold"),  # stale
        zendesk_record(9),  # new
        shortcut_record(4),  # new, other source
    ]
    outcomes = [result.outcome for result in store.upsert_many(batch)]
    assert outcomes == ["unchanged", "updated", "stale", "inserted", "inserted"]
    assert store.get_record("zendesk", "2").state == "solved"
    assert store.get_record("zendesk", "3").state == "open"
    assert store.get_record("shortcut", "4").ticket_id == "SC-4"


def test_upsert_many_with_the_same_record_twice_keeps_the_newer(store):
    results = store.upsert_many([zendesk_record(1, updated=10, status="solved"), zendesk_record(1)])
    assert [r.outcome for r in results] == ["inserted", "stale"]
    assert store.get_record("zendesk", "1").state == "solved"


def test_upsert_after_link_lands_under_the_target(store):
    report = slack_record(1)
    store.upsert(report)
    store.link(report.home_id, "ZD-5", actor="U1")
    edited = replace(report, updated_at=slack_record(1, updated=30).updated_at, title="edited")
    result = store.upsert(edited)
    assert (result.outcome, result.ticket_id) == (UpsertOutcome.UPDATED, "ZD-5")
    assert [r.title for r in store.show("ZD-5").records] == ["edited"]
    assert store.get_record("slack", report.record_id).ticket_id == "ZD-5"


def test_new_record_of_an_aliased_id_lands_under_the_end_of_the_chain(store):
    report = slack_record(1)
    store.upsert(report)
    store.link(report.home_id, "ZD-5", actor="U1")  # the Zendesk ticket has not been pulled yet
    store.link("ZD-5", "ZD-9", actor="U1")  # ZD-5 turns out to be a duplicate of ZD-9
    result = store.upsert(zendesk_record(5))
    assert result.ticket_id == "ZD-9"
    view = store.show("ZD-5")
    assert view.alias_chain == ("ZD-5", "ZD-9")
    assert {r.source_record for r in view.records} == {"zendesk#5", report.source_record}
    assert store.show(report.home_id).alias_chain == (report.home_id, "ZD-5", "ZD-9")


def test_a_view_counts_the_deleted_records_it_leaves_out(store):
    store.upsert_many([zendesk_record(3, status="deleted"), slack_record(1), slack_record(2)])
    store.link(slack_record(1).home_id, "ZD-3", actor="U1")
    view = store.show("ZD-3")
    assert ([r.source_record for r in view.records], view.hidden_deleted) == (
        [slack_record(1).source_record],
        1,
    )
    assert store.show("ZD-3", include_deleted=True).hidden_deleted == 0
