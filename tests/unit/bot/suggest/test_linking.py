"""Linking from a suggestion: the /bug link permission rule, stale suggestions, the modal's id checks."""

from __future__ import annotations

import pytest

from bot.suggest.linking import LinkDenied, StaleSuggestion, check_target, link_report, report_of
from storage.errors import InvalidTicketId, LinkRefused, TicketNotFound
from tests.support.builders import slack_record, zendesk_record

LINKERS = {"U0LINKER"}


def may_link(user: str) -> bool:
    return user in LINKERS


@pytest.fixture
def reports(sqlite_store):
    sqlite_store.upsert(zendesk_record(5, title="Cart crash"))
    sqlite_store.upsert(zendesk_record(6, title="Other"))
    first, second = slack_record(1, text="cart crash"), slack_record(2, text="cart crashes again")
    sqlite_store.upsert(first)
    sqlite_store.upsert(second)
    return sqlite_store, first, second


def test_the_author_or_a_linker_may_link_others_may_not(reports):
    store, first, second = reports
    with pytest.raises(LinkDenied, match="may not link"):
        link_report(store, first.home_id, "ZD-5", "U0MALLORY", may_link)
    assert link_report(store, first.home_id, "ZD-5", "U0AUTHOR", may_link).resolved_target == "ZD-5"
    assert link_report(store, second.home_id, "zd-5", "U0LINKER", may_link).resolved_target == "ZD-5"


def test_a_report_may_be_linked_to_a_possible_duplicate(reports):
    store, first, second = reports
    result = link_report(store, second.home_id, first.home_id, "U0LINKER", may_link)
    assert result.resolved_target == first.home_id
    assert store.get_record("slack", second.record_id).ticket_id == first.home_id


def test_a_stale_suggestion_says_where_the_report_is(reports):
    store, first, _ = reports
    store.link(first.home_id, "ZD-6", "U0LINKER")
    with pytest.raises(StaleSuggestion, match="already linked to ZD-6; nothing changed"):
        link_report(store, first.home_id, "ZD-5", "U0LINKER", may_link)
    assert link_report(store, first.home_id, "ZD-6", "U0LINKER", may_link).already  # the same: nothing to do
    with pytest.raises(StaleSuggestion, match="not stored"):
        report_of(store, "SL-1764300099.000099")


def test_the_modal_checks_the_typed_id(reports):
    store, first, _ = reports
    with pytest.raises(InvalidTicketId, match="'JIRA-9' is not a ticket id"):
        check_target(store, first, "JIRA-9")
    with pytest.raises(TicketNotFound, match="ZD-404 is not known here"):
        check_target(store, first, "ZD-404")
    with pytest.raises(LinkRefused, match="this report itself"):
        check_target(store, first, first.home_id)
    assert check_target(store, first, " zd-5 ") == "ZD-5"
