"""Linking a report from a suggestion (button, modal): the same permission rule as `/bug link` plus the
checks a person needs before the store's own (stale buttons, unknown ids), each with a message for them."""

from __future__ import annotations

from collections.abc import Callable

from bot.tickets.upstreams import SYSTEM_NAMES, Upstreams
from storage.errors import BugTrackerError, LinkRefused, TicketNotFound
from storage.model import BugRecord, parse_ticket_id, source_of
from storage.store import BugStore
from storage.values import LinkResult

MayLink = Callable[[str], bool]


class LinkDenied(BugTrackerError):
    """The person may not link this report."""


class StaleSuggestion(BugTrackerError):
    """The report moved since the suggestion was made (linked elsewhere, deleted)."""


def report_of(store: BugStore, report_id: str) -> BugRecord:
    report_id = parse_ticket_id(report_id)
    if source_of(report_id) != "slack":
        raise TicketNotFound(f"{report_id} is not a Slack report")
    record = store.get_record("slack", report_id.split("-", 1)[1])
    if record is None:
        raise StaleSuggestion(f"{report_id} is not stored any more; nothing changed")
    return record


def may_link_report(
    store: BugStore, report: BugRecord, user: str, may_link: MayLink, target: str | None = None
) -> bool:
    """`BUG_LINKERS` (or everyone when unset); else the report's author, when every record under it is one
    of her own Slack reports (a linker may have filed a ticket under it: moving that is not hers to do).
    `target`: a link to where the report already lives moves nothing and is allowed (a repeated tag)."""
    if may_link(user):
        return True
    if user != report.attributes.get("author"):
        return False
    if target is not None and store.resolve(target)[-1] == report.location:
        return True
    return only_own_records(store, report.home_id, user)


def only_own_records(store: BugStore, report_id: str, user: str) -> bool:
    """Every record under report_id (deleted ones too) is a Slack report `user` wrote; nothing stored: yes."""
    try:
        view = store.show(report_id, include_deleted=True)
    except TicketNotFound:
        return True
    return all(r.source_system == "slack" and r.attributes.get("author") == user for r in view.records)


def check_may_link(report: BugRecord, user: str, may_link: MayLink, store: BugStore) -> None:
    if not may_link_report(store, report, user, may_link):
        raise LinkDenied(
            "you may not link reports: only someone in BUG_LINKERS may (or the report's author, while it"
            " holds only her own reports)"
        )


def check_target(store: BugStore, report: BugRecord, text: str) -> str:
    """A ticket id as typed in the modal: its canonical form, or an error saying what is wrong with it.
    A Zendesk / Shortcut id no pull has stored yet passes: the link reads it from its system first."""
    target = parse_ticket_id(text)
    if target == report.home_id:
        raise LinkRefused(f"{target} is this report itself; give the ticket to link it to")
    if source_of(target) != "slack":
        return target
    try:
        store.show(target)
    except TicketNotFound:
        raise TicketNotFound(f"{target} is not a report stored here; check the id") from None
    return target


def fetch_unknown(store: BugStore, upstreams: Upstreams | None, target_id: str) -> str | None:
    """Before a link: a Zendesk ticket / Shortcut story the store has not seen is read from its system at
    once and stored. Returns a note when that system is not configured (the link is made anyway);
    raises TicketNotFound when the system says there is no such item (404)."""
    target = parse_ticket_id(target_id)
    source = source_of(target)
    if source == "slack" or upstreams is None:
        return None
    number = target.split("-", 1)[1]
    if store.get_record(source, number) is not None:
        return None
    reader = upstreams.reader(source)
    if reader is None:
        return f"{target} is not known here ({SYSTEM_NAMES[source]} is not configured); linked all the same"
    record = reader.fetch(int(number))
    if record is None:
        raise TicketNotFound(
            f"{target} does not exist in {SYSTEM_NAMES[source]} (it answered 404); nothing linked"
        )
    store.upsert(record)
    return None


def link_report(
    store: BugStore,
    report_id: str,
    target_id: str,
    user: str,
    may_link: MayLink,
    upstreams: Upstreams | None = None,
) -> LinkResult:
    """Link a report to a suggested (or typed) ticket. Stale: the report already lives under another one.
    A ticket not stored yet is read from its system first (fetch_unknown)."""
    report = report_of(store, report_id)
    check_may_link(report, user, may_link, store)
    target = parse_ticket_id(target_id)
    if report.deleted:
        raise StaleSuggestion(f"{report.home_id} was deleted; nothing changed")
    here = report.location
    if here != report.home_id and here != store.resolve(target)[-1]:
        raise StaleSuggestion(f"{report.home_id} is already linked to {here}; nothing changed")
    fetch_unknown(store, upstreams, target)
    return store.link(report.home_id, target, user)
