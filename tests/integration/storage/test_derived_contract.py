"""On both stores: an insert tried without a read first, derived data kept in the same commit (lists), and a
meta value saved only when none is (the status card's first answer)."""

from __future__ import annotations

from dataclasses import replace

from storage.primitives import AddToList
from storage.values import UpsertOutcome
from tests.support.builders import slack_record, zendesk_record


def test_a_new_record_is_inserted_at_home_with_its_list_entry(store):
    report = slack_record(1)
    inserted, stored = store.try_insert(
        report, also=[AddToList("reports:U1", report.home_id, report.created_at)]
    )
    assert (inserted.outcome, inserted.ticket_id, stored) == (UpsertOutcome.INSERTED, report.home_id, None)
    assert store.get_record("slack", report.record_id) == replace(report, ticket_id=report.home_id)
    assert store.read_list("reports:U1", 10) == [report.home_id]
    assert store.counts().by_source == {"slack": 1}


def test_a_record_stored_already_is_refused_and_returned_with_nothing_written(store):
    report = slack_record(1)
    store.upsert(report)
    again = slack_record(1, text="a different copy")
    inserted, stored = store.try_insert(
        again, also=[AddToList("reports:U1", again.home_id, again.created_at)]
    )
    assert inserted is None
    assert stored is not None and stored.attributes["text"] == report.attributes["text"]  # the stored copy
    assert store.read_list("reports:U1", 10) == []  # the commit was refused whole
    assert store.counts().total == 1


def test_a_record_living_under_another_ticket_is_refused_at_home(store):
    report = slack_record(1)
    store.upsert(zendesk_record(5))
    store.upsert_linked(report, "ZD-5", actor="U1")
    inserted, stored = store.try_insert(report)
    assert inserted is None  # found where it lives: read it (the stub at home is not the record)
    assert store.get_record("slack", report.record_id).ticket_id == "ZD-5"
    assert len(store.show("ZD-5").records) == 2


def test_lists_are_read_newest_first_and_bounded(store):
    for n in range(1, 6):
        report = slack_record(n)
        store.try_insert(report, also=[AddToList("reports:U1", report.home_id, report.created_at)])
    newest = [slack_record(n).home_id for n in (5, 4, 3)]
    assert store.read_list("reports:U1", 3) == newest
    assert store.read_list("reports:U2", 3) == []


def test_add_meta_saves_only_the_first_value(store):
    assert store.add_meta("card:SL-1", {"ts": "1.000001"}) is True
    assert store.add_meta("card:SL-1", {"ts": "2.000002"}) is False
    assert store.get_meta("card:SL-1") == {"ts": "1.000001"}
