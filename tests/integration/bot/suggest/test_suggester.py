"""Suggested links: the index loads once, follows every write through the store hook, finds look-alikes."""

from __future__ import annotations

import inspect

import pytest

from bot.suggest.index import TitleIndex
from bot.suggest.matching import words_of
from bot.suggest.service import Suggester
from storage.errors import LinkRefused
from storage.model import now_timestamp
from storage.observed import ObservedStore
from storage.store import BugStore
from tests.support.builders import shortcut_record, slack_record, zendesk_record


class CountingStore(ObservedStore):
    """Counts the reads that page the table, to prove a suggestion reads nothing."""

    def __init__(self, store, observer):
        super().__init__(store, observer)
        self.pages = 0

    def list_records(self, **filters):
        self.pages += 1
        return super().list_records(**filters)


def recent_report(n: int, text: str):
    now = now_timestamp()
    return slack_record(n, text=text, created_at=now, updated_at=now)


@pytest.fixture
def suggester(store):
    return Suggester(TitleIndex(background=False), store=store)


@pytest.fixture
def observed(store, suggester):
    """On both stores (SQLite, DynamoDB on moto): the hook follows what link/unlink report as moved."""
    store.upsert(zendesk_record(101, title="iOS app crashes when opening the shopping cart"))
    store.upsert(zendesk_record(102, title="Invoice PDF shows wrong VAT amount", status="solved"))
    store.upsert(zendesk_record(103, title="Export to CSV times out for large reports"))
    store.upsert(shortcut_record(7, title="Cart view controller crash on nil discount (iOS)"))
    store = CountingStore(store, suggester.records_written)
    assert suggester.load() == 3  # the solved ticket is not a candidate
    return store


def ids(suggestions):
    return [s.ticket_id for s in suggestions]


def test_words_drop_markup_tags_and_filler():
    words = words_of(
        "<@U0ALICE> reports: Export to CSV times out https://x.test/a priority=High ticketId=ZD-1"
    )
    assert words == ["export", "csv", "time"]
    assert words_of("<https://evil.test|the cart> crashes &amp; burns") == ["cart", "crash", "burn"]


def test_a_report_like_an_open_ticket_gets_it_and_reads_no_table(observed, suggester):
    pages_after_load = observed.pages
    report = recent_report(1, "the iOS app crashes as soon as you open the cart")
    observed.upsert(report)
    found = suggester.suggest_for(observed.get_record("slack", report.record_id))
    assert ids(found) == ["ZD-101"]
    assert 0 < found[0].score <= 1.0001
    # for anyone else, the new report is a possible duplicate too
    assert set(ids(suggester.suggest_text("iOS cart crash"))) == {"ZD-101", "SC-7", report.home_id}
    assert suggester.suggest_text("invoice has the wrong VAT amount") == []  # ZD-102 is solved
    assert observed.pages == pages_after_load


def test_writes_keep_the_index_current(observed, suggester):
    observed.upsert(zendesk_record(104, title="Dark mode makes table text unreadable"))
    assert ids(suggester.suggest_text("table text unreadable in dark mode")) == ["ZD-104"]
    observed.upsert(
        zendesk_record(104, updated=5, title="Dark mode makes table text unreadable", status="closed")
    )
    assert suggester.suggest_text("table text unreadable in dark mode") == []
    observed.upsert_many([zendesk_record(105, title="Webhook deliveries failing with timeout")])
    assert ids(suggester.suggest_text("webhook deliveries keep failing")) == ["ZD-105"]


def test_a_linked_story_is_suggested_as_its_ticket_once(observed, suggester):
    observed.link("SC-7", "ZD-101", "ann")
    found = suggester.suggest_text("iOS cart crash")
    assert ids(found) == ["ZD-101"]  # both records live under ZD-101: one suggestion
    observed.unlink("SC-7", "ann")
    assert set(ids(suggester.suggest_text("iOS cart crash"))) == {"ZD-101", "SC-7"}


def test_recent_unlinked_reports_are_possible_duplicates_until_linked(observed, suggester):
    first = recent_report(1, "Zapier integration disconnected for several customers")
    observed.upsert(first)
    second = recent_report(2, "Zapier integration got disconnected for a few customers")
    observed.upsert(second)
    assert ids(suggester.suggest_for(observed.get_record("slack", second.record_id))) == [first.home_id]
    observed.link(first.home_id, "ZD-103", "ann")  # linked: no longer a duplicate candidate of its own
    assert suggester.suggest_for(observed.get_record("slack", second.record_id)) == []
    linked = observed.get_record("slack", first.record_id)
    assert suggester.suggest_for(linked) == []  # a linked report gets no suggestions


def test_old_reports_are_not_suggested(observed, suggester):
    old = slack_record(3, text="Zapier integration disconnected for several customers")  # 2025
    observed.upsert(old)
    assert suggester.suggest_text("Zapier integration disconnected") == []


def test_the_background_rebuild_makes_new_titles_searchable(sqlite_store):
    suggester = Suggester(TitleIndex(), store=sqlite_store)
    store = ObservedStore(sqlite_store, suggester.records_written)
    suggester.load()
    store.upsert(zendesk_record(201, title="Calendar sync duplicates Google events"))
    suggester.index.flush()
    assert ids(suggester.suggest_text("google calendar sync duplicates events")) == ["ZD-201"]


def test_a_new_title_is_searchable_before_the_rebuild(sqlite_store):
    index = TitleIndex()
    index.apply([zendesk_record(n, title=f"Billing page shows old plan {n}") for n in range(1, 30)])
    index.flush()
    index.apply([zendesk_record(99, title="Webhook deliveries failing with timeout")])  # no flush
    hits = index.search("webhook deliveries keep failing", limit=3, min_score=0.2)
    assert [hit.entry.home_id for hit in hits] == ["ZD-99"]
    index.flush()
    assert [h.entry.home_id for h in index.search("webhook deliveries failing", limit=3, min_score=0.2)] == [
        "ZD-99"
    ]


def test_a_closed_ticket_is_gone_before_the_rebuild():
    index = TitleIndex()
    index.apply([zendesk_record(1, title="Webhook deliveries failing with timeout"), zendesk_record(2)])
    index.flush()
    index.apply(
        [zendesk_record(1, updated=9, title="Webhook deliveries failing with timeout", status="solved")]
    )
    assert index.search("webhook deliveries failing", limit=3, min_score=0.2) == []


def test_an_observer_failure_never_loses_the_write(sqlite_store):
    def broken(records):
        raise RuntimeError("boom")

    store = ObservedStore(sqlite_store, broken)
    store.upsert(zendesk_record(301))
    assert sqlite_store.get_record("zendesk", "301") is not None


def test_the_observed_store_runs_the_stores_own_semantics_and_wraps_only_its_writes():
    """Every operation is BugStore's own, inherited: the wrapper overrides only the funnel to the port's
    writes (storage/core.py), so a method added to BugStore cannot bypass it."""
    operations = {
        name for name, _ in inspect.getmembers(BugStore, inspect.isfunction) if not name.startswith("_")
    }
    overridden = {name for name in operations if name in vars(ObservedStore)}
    assert overridden == {"transaction"}
    assert {"_commit", "_put_new"} <= set(vars(ObservedStore))


def test_a_refused_tagged_report_is_still_indexed(observed, suggester):
    report = recent_report(4, "Zapier trigger fires twice for draft invoices")
    with pytest.raises(LinkRefused):  # a report cannot be linked to itself; it is stored all the same
        observed.upsert_linked(report, report.home_id, "ann")
    assert ids(suggester.suggest_text("zapier trigger fires twice")) == [report.home_id]
