"""The one link path (bot/tickets/link.py): its permission rule, stale suggestions, the modal's id checks, and
the same line for an id that does not exist and one the person may not see."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.tickets.link import (
    Actor,
    LinkDenied,
    StaleSuggestion,
    check_target,
    link,
    link_report,
    operator,
    report_of,
    unlink,
)
from storage.errors import InvalidTicketId, LinkRefused, TicketNotFound
from tests.support.builders import slack_record, zendesk_record

LINKERS = {"U0LINKER"}


@dataclass(frozen=True)
class Channels:
    """What a person reads: Slack reports of `channels`, tickets when they read any (ReaderScope's rule)."""

    channels: frozenset[str] = field(default_factory=frozenset)

    @property
    def reads_any(self) -> bool:
        return bool(self.channels)

    def may_read(self, record) -> bool:
        if record.source_system != "slack":
            return self.reads_any
        return record.attributes.get("channel") in self.channels


def may_link(user: str, channels: tuple[str, ...] = ("C0BUGS",), named: bool = True) -> Actor:
    """BUG_LINKERS set (`named`) to LINKERS, or unset; the person reads `channels`."""
    return Actor(user, Channels(frozenset(channels)), linker=named and user in LINKERS, linkers_named=named)


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
        link_report(store, first.home_id, "ZD-5", may_link("U0MALLORY"))
    assert link_report(store, first.home_id, "ZD-5", may_link("U0AUTHOR")).resolved_target == "ZD-5"
    assert link_report(store, second.home_id, "zd-5", may_link("U0LINKER")).resolved_target == "ZD-5"


def test_a_report_may_be_linked_to_a_possible_duplicate(reports):
    store, first, second = reports
    result = link_report(store, second.home_id, first.home_id, may_link("U0LINKER"))
    assert result.resolved_target == first.home_id
    assert store.get_record("slack", second.record_id).ticket_id == first.home_id


def test_a_stale_suggestion_says_where_the_report_is(reports):
    store, first, _ = reports
    store.link(first.home_id, "ZD-6", "U0LINKER")
    with pytest.raises(StaleSuggestion, match="already linked to ZD-6; nothing changed"):
        link_report(store, first.home_id, "ZD-5", may_link("U0LINKER"))
    assert link_report(store, first.home_id, "ZD-6", may_link("U0LINKER")).already  # the same: nothing to do
    with pytest.raises(StaleSuggestion, match="not stored"):
        report_of(store, "SL-1764300099.000099")


def test_the_modal_checks_the_typed_id(reports):
    store, first, _ = reports
    with pytest.raises(InvalidTicketId, match="'JIRA-9' is not a ticket id"):
        check_target(store, first, "JIRA-9")
    # an id no pull stored yet passes the modal; the link reads it from its system first
    assert check_target(store, first, "zd-404") == "ZD-404"
    with pytest.raises(TicketNotFound, match="SL-1764300099.000099 is not a report stored here"):
        check_target(store, first, "SL-1764300099.000099")
    with pytest.raises(LinkRefused, match="this report itself"):
        check_target(store, first, first.home_id)
    assert check_target(store, first, " zd-5 ") == "ZD-5"


def test_the_author_may_not_move_a_ticket_a_linker_filed_under_her_report(store):
    """Once ZD-77 lives under her report, the author's `ticketId=ZD-42` would move ZD-77's
    records: only a linker may. While the report holds only her own reports, she still may."""
    from bot.slack.intake import Intake

    store.upsert(zendesk_record(42))
    store.upsert(zendesk_record(77))
    intake = Intake(store, actor_of=may_link)
    own = {"type": "message", "user": "U0ALICE", "text": "cart broken", "ts": "1764300001.000001"}
    intake.ingest_message(own, "C0BUGS")
    report = f"SL-{own['ts']}"
    store.link("ZD-77", report, "U0LINKER")  # a linker files ZD-77 under her report

    reply = {"type": "message", "user": "U0ALICE", "text": "ticketId=ZD-42", "ts": "1764300002.000002",
             "thread_ts": own["ts"]}  # fmt: skip
    result = intake.thread_reply(reply, "C0BUGS")
    assert result.linked is None and any("may not link this report" in p for p in result.problems)
    edited = {**own, "text": "cart broken ticketId=ZD-42", "edited": {"ts": "1764300003.000003"}}
    result = intake.ingest_edit(edited, "C0BUGS", "1764300003.000003")
    assert any("may not link this report" in p for p in result.problems)
    stored = intake.store.get_record("slack", own["ts"])
    with pytest.raises(LinkDenied):
        link_report(store, report, "ZD-42", may_link("U0ALICE"))
    assert store.resolve("ZD-77")[-1] == report and store.resolve(report) == (report,)
    assert stored.attributes["text"] == "cart broken ticketId=ZD-42"  # the edit itself is stored

    second = {"type": "message", "user": "U0ALICE", "text": "login broken", "ts": "1764300004.000004"}
    intake.ingest_message(second, "C0BUGS")
    mine = {**second, "text": "login broken ticketId=ZD-42", "edited": {"ts": "1764300005.000005"}}
    assert intake.ingest_edit(mine, "C0BUGS", "1764300005.000005").linked  # only her own: she may
    assert store.resolve(f"SL-{second['ts']}")[-1] == "ZD-42"
    assert link_report(store, report, "ZD-42", may_link("U0LINKER")).resolved_target == "ZD-42"


def test_unset_bug_linkers_means_readers_of_the_report_not_anyone(reports):
    store, first, second = reports
    reader, outsider = may_link("U0BOB", named=False), may_link("U0EVE", channels=(), named=False)
    assert link(store, first.home_id, "ZD-5", reader).resolved_target == "ZD-5"
    with pytest.raises(TicketNotFound) as refused:
        link(store, second.home_id, "ZD-5", outsider)
    with pytest.raises(TicketNotFound) as missing:
        link(store, "SL-1764300099.000099", "ZD-5", reader)
    # the same one line for "not yours to see" and "does not exist", bar the id
    assert str(refused.value).replace(second.home_id, "ID") == str(missing.value).replace(
        "SL-1764300099.000099", "ID"
    )
    with pytest.raises(TicketNotFound, match="not a ticket or report you can see"):
        unlink(store, first.home_id, outsider)
    assert store.resolve(first.home_id)[-1] == "ZD-5" and store.resolve(second.home_id) == (second.home_id,)
    unlink(store, first.home_id, reader)
    assert store.resolve(first.home_id) == (first.home_id,)


def test_a_report_of_another_channel_cannot_be_linked_or_unlinked_by_a_non_reader(reports):
    store, first, second = reports
    elsewhere = may_link(
        "U0LINKER", channels=("C0OTHER",)
    )  # a linker, but these reports are not theirs to read
    assert (
        link(store, first.home_id, "ZD-5", operator("U0OPS")).resolved_target == "ZD-5"
    )  # the CLI reads all
    with pytest.raises(TicketNotFound, match="not a ticket or report you can see"):
        unlink(store, first.home_id, elsewhere)
    with pytest.raises(TicketNotFound, match="not a ticket or report you can see"):
        link(store, second.home_id, "ZD-6", elsewhere)
    with pytest.raises(TicketNotFound, match="not a ticket or report you can see"):
        link(store, "ZD-5", "ZD-6", elsewhere)  # would move the report under ZD-5 too
    assert store.resolve(first.home_id)[-1] == "ZD-5" and store.resolve(second.home_id) == (second.home_id,)
