"""link / unlink / show semantics, identical on both stores."""

from __future__ import annotations

import pytest

from storage.errors import InvalidTicketId, LinkRefused, TicketNotFound
from tests.support.builders import slack_record, zendesk_record


def test_link_moves_records_and_show_follows_the_alias(store):
    report = slack_record(1)
    store.upsert(report)
    store.upsert(zendesk_record(5))
    result = store.link(report.home_id, "ZD-5", actor="U1")
    assert result.moved == (report.source_record,)
    assert result.resolved_target == "ZD-5"
    target = store.show("ZD-5")
    assert {r.source_record for r in target.records} == {"zendesk#5", report.source_record}
    old = store.show(report.home_id)
    assert old.was_linked and old.ticket_id == "ZD-5"
    assert old.records == target.records
    assert store.resolve(report.home_id) == (report.home_id, "ZD-5")


def test_link_to_a_target_with_no_records_yet_is_allowed(store):
    store.upsert(slack_record(1))
    store.link(slack_record(1).home_id, "ZD-404", actor="U1")
    assert [r.source_record for r in store.show("ZD-404").records] == [slack_record(1).source_record]


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("ZD-1", "ZD-1", "itself"),
        ("ZD-999", "ZD-1", "no records"),
    ],
)
def test_refused_links_say_why(store, source, target, message):
    store.upsert(zendesk_record(1))
    with pytest.raises(LinkRefused, match=message):
        store.link(source, target, actor="U1")


def test_malformed_ids_are_refused_with_the_accepted_forms(store):
    with pytest.raises(InvalidTicketId, match="ZD-<digits>"):
        store.link("JIRA-1", "ZD-1", actor="U1")
    with pytest.raises(InvalidTicketId):
        store.show("ZD-12x")


def test_cycles_are_refused(store):
    store.upsert(zendesk_record(1))
    store.upsert(zendesk_record(2))
    store.upsert(zendesk_record(3))
    store.link("ZD-1", "ZD-2", actor="U1")
    store.link("ZD-2", "ZD-3", actor="U1")
    with pytest.raises(LinkRefused, match="cycle"):
        store.link("ZD-3", "ZD-1", actor="U1")
    assert len(store.show("ZD-3").records) == 3


def test_relinking_elsewhere_needs_an_unlink_and_repeating_a_link_is_harmless(store):
    store.upsert(slack_record(1))
    sl = slack_record(1).home_id
    store.link(sl, "ZD-5", actor="U1")
    assert store.link(sl, "ZD-5", actor="U1").already
    with pytest.raises(LinkRefused, match="already linked to ZD-5"):
        store.link(sl, "ZD-6", actor="U1")


def test_chains_resolve_to_the_end(store):
    for n in (1, 2, 3):
        store.upsert(zendesk_record(n))
    store.link("ZD-1", "ZD-2", actor="U1")
    store.link("ZD-2", "ZD-3", actor="U1")
    view = store.show("ZD-1")
    assert view.alias_chain == ("ZD-1", "ZD-2", "ZD-3")
    assert {r.source_record for r in view.records} == {"zendesk#1", "zendesk#2", "zendesk#3"}
    assert store.upsert(zendesk_record(1, updated=9, status="solved")).ticket_id == "ZD-3"


def test_unlink_puts_records_back_and_keeps_an_audit_trail(store):
    report = slack_record(1)
    store.upsert(report)
    store.upsert(zendesk_record(5))
    store.link(report.home_id, "ZD-5", actor="U-linker")
    result = store.unlink(report.home_id, actor="U-undoer")
    assert result.moved == (report.source_record,)
    back = store.show(report.home_id)
    assert not back.was_linked
    assert [r.source_record for r in back.records] == [report.source_record]
    assert [r.source_record for r in store.show("ZD-5").records] == ["zendesk#5"]
    trail = [(e.action, e.actor, e.from_id, e.to_id) for e in back.audit]
    assert trail == [
        ("link", "U-linker", report.home_id, "ZD-5"),
        ("unlink", "U-undoer", report.home_id, "ZD-5"),
    ]
    assert [e.action for e in store.show("ZD-5").audit] == ["link", "unlink"]
    assert all(e.at for e in back.audit)
    # and the report can be linked again afterwards
    store.link(report.home_id, "ZD-5", actor="U1")
    assert len(store.show("ZD-5").records) == 2


def test_unlink_in_a_chain_moves_back_everything_that_came_through_it(store):
    for n in (1, 2, 3):
        store.upsert(zendesk_record(n))
    store.link("ZD-1", "ZD-2", actor="U1")
    store.link("ZD-2", "ZD-3", actor="U1")
    result = store.unlink("ZD-2", actor="U1")
    assert set(result.moved) == {"zendesk#1", "zendesk#2"}
    assert {r.source_record for r in store.show("ZD-2").records} == {"zendesk#1", "zendesk#2"}
    assert store.show("ZD-1").alias_chain == ("ZD-1", "ZD-2")
    assert [r.source_record for r in store.show("ZD-3").records] == ["zendesk#3"]


def test_unlink_of_an_id_that_is_not_linked_is_refused(store):
    store.upsert(zendesk_record(1))
    with pytest.raises(LinkRefused, match="not linked"):
        store.unlink("ZD-1", actor="U1")


def test_show_of_an_unknown_id_says_nothing_is_stored(store):
    with pytest.raises(TicketNotFound, match="ZD-77"):
        store.show("ZD-77")


def test_show_is_case_insensitive_on_the_prefix(store):
    store.upsert(zendesk_record(12345))
    assert store.show("zd-12345").ticket_id == "ZD-12345"


def test_a_link_of_more_records_than_one_transaction_holds(store):
    """40 reports under ZD-1, then ZD-1 -> ZD-2: 41 records move, each touching its old place, its new
    place and its home stub: 122 actions, more than the 100 one DynamoDB transaction holds."""
    reports = [slack_record(n) for n in range(1, 41)]
    store.upsert_many(reports)
    store.upsert(zendesk_record(1))
    for report in reports:
        store.link(report.home_id, "ZD-1", actor="U1")
    result = store.link("ZD-1", "ZD-2", actor="U1")
    assert len(result.moved) == 41
    moved = store.show("ZD-2").records
    assert len(moved) == 41 == len({r.source_record for r in moved})
    assert store.show(reports[0].home_id).alias_chain == (reports[0].home_id, "ZD-1", "ZD-2")
    assert all(store.get_record("slack", r.record_id).ticket_id == "ZD-2" for r in reports[:5])


def test_a_tagged_new_report_lives_under_its_ticket_from_the_start(store, monkeypatch):
    report = slack_record(1, text="crash ticketId=ZD-12345")
    writes = []
    for name in ("transact", "_write"):  # DynamoDB writes through transact, SQLite through _write
        if hasattr(store.port, name):
            real = getattr(store.port, name)
            monkeypatch.setattr(
                store.port, name, lambda *a, _real=real, **k: writes.append(1) or _real(*a, **k)
            )
    result, link = store.upsert_linked(report, "zd-12345", actor="U1")
    monkeypatch.undo()
    assert len(writes) == 1  # one transaction: never stored under its SL- id alone
    assert (result.outcome, result.ticket_id) == ("inserted", "ZD-12345")
    assert link.moved == (report.source_record,)
    view = store.show(report.home_id)
    assert view.alias_chain == (report.home_id, "ZD-12345")
    assert [r.source_record for r in view.records] == [report.source_record]
    assert [(e.action, e.actor) for e in view.audit] == [("link", "U1")]
    again, link_again = store.upsert_linked(report, "ZD-12345", actor="U1")  # a redelivery
    assert (again.outcome, again.ticket_id, link_again.already) == ("unchanged", "ZD-12345", True)
    assert len(store.show("ZD-12345").records) == 1


def test_a_report_tagged_with_another_ticket_is_kept_when_the_link_is_refused(store):
    report = slack_record(1)
    store.upsert_linked(report, "ZD-1", actor="U1")
    edited = slack_record(1, updated=10, text="actually ticketId=ZD-2")
    with pytest.raises(LinkRefused, match="already linked to ZD-1"):
        store.upsert_linked(edited, "ZD-2", actor="U1")
    assert store.get_record("slack", report.record_id).attributes["text"] == "actually ticketId=ZD-2"
    assert store.get_record("slack", report.record_id).ticket_id == "ZD-1"


def _link_as_an_older_version_did(store, source_id, target_id):
    """Before ids were canonicalised, `ticketId=ZD-0042` linked under `ZD-0042` as typed."""
    with store.transaction():
        store._link(source_id, target_id, "old-version")


def test_records_stored_under_a_non_canonical_id_move_to_the_canonical_one(store):
    from tests.support.builders import slack_record, zendesk_record

    first, second = slack_record(1), slack_record(2)
    store.upsert_many([first, second, zendesk_record(42)])
    _link_as_an_older_version_did(store, first.home_id, "ZD-0042")
    _link_as_an_older_version_did(store, second.home_id, "ZD-042")
    assert [r.source_record for r in store.show("ZD-42").records] == ["zendesk#42"]  # split before
    assert store.canonicalize_ids() == [("ZD-0042", "ZD-42", 1), ("ZD-042", "ZD-42", 1)]
    view = store.show("zd-0042")
    assert view.ticket_id == "ZD-42" and len(view.records) == 3
    assert store.resolve(first.home_id) == (first.home_id, "ZD-0042", "ZD-42")
    assert store.get_record("slack", first.record_id).ticket_id == "ZD-42"
    assert store.canonicalize_ids() == []  # idempotent
    assert store.ticket_ids_in_use() == {"ZD-42"}
    # the aliases still work both ways: a newer copy lands under ZD-42, an unlink sends it home
    store.upsert(slack_record(1, updated=5, text="edited"))
    assert store.get_record("slack", first.record_id).ticket_id == "ZD-42"
    store.unlink(first.home_id, "ann")
    assert store.get_record("slack", first.record_id).ticket_id == first.home_id
