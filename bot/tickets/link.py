"""The one link path: `/bug link` and `unlink`, the link modal, suggestion buttons, Home buttons, `ticketId=`
tags and `bugtracker link` all come here, with one permission rule (docs/privacy.md):

- the person must read what moves (every record under the source) and the target; someone who may not gets
  the same one line as for an id that does not exist (`unseen`): no oracle;
- BUG_LINKERS set: the people and groups it names may link, and a report's author while it holds only her
  own reports; unset: the readers of the report may link (not anyone);
- a Zendesk ticket / Shortcut story no pull stored is read from its system only for someone who may read
  tickets, only when the configured pull would take it (Upstreams.takes: SHORTCUT_QUERY's type,
  SYNC_START), and stored only once the link is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from bot.tickets.upstreams import Upstreams
from storage import systems
from storage.errors import BugTrackerError, LinkRefused, TicketNotFound
from storage.model import BugRecord, parse_ticket_id, source_of
from storage.store import BugStore
from storage.values import LinkResult


class Reads(Protocol):
    """What a person may read (bot/slack/readers.py ReaderScope)."""

    @property
    def reads_any(self) -> bool: ...

    def may_read(self, record: Any) -> bool: ...


@dataclass(frozen=True)
class _ReadsAll:
    reads_any: bool = True

    def may_read(self, record: Any) -> bool:
        return True


@dataclass(frozen=True)
class Actor:
    """Who is linking: their id (the audit's actor), what they may read, and what BUG_LINKERS says."""

    user: str
    reads: Reads
    linker: bool = False  # BUG_LINKERS names them
    linkers_named: bool = False  # BUG_LINKERS is set: only linkers (and an author, her own) may link


def operator(user: str) -> Actor:
    """The console and the `bugtracker` CLI: local access to the store reads and links everything."""
    return Actor(user, _ReadsAll(), linker=True)


ActorOf = Callable[[str], Actor]
MayLink = Callable[[str], bool]  # create's check: may this person create (bot/tickets/create.py)


class LinkDenied(BugTrackerError):
    """The person may not link this report."""


class StaleSuggestion(BugTrackerError):
    """The report moved since the suggestion was made (linked elsewhere, deleted)."""


DENIED = (
    "you may not link reports: only someone in BUG_LINKERS may (or the report's author, while it holds only"
    " her own reports)"
)


def may_create(actor: Actor) -> bool:
    """Creating upstream copies a report out of Slack: BUG_LINKERS set, only the people it names (the author
    alone may not); unset, whoever reads the report (checked by the caller)."""
    return actor.linker or not actor.linkers_named


def unseen(ticket_id: str) -> TicketNotFound:
    """The one answer for an id that does not exist AND for one the person may not see."""
    return TicketNotFound(f"{ticket_id} is not a ticket or report you can see here; nothing changed")


def report_of(store: BugStore, report_id: str) -> BugRecord:
    report_id = parse_ticket_id(report_id)
    if source_of(report_id) != "slack":
        raise TicketNotFound(f"{report_id} is not a Slack report")
    record = store.get_record("slack", report_id.split("-", 1)[1])
    if record is None:
        raise StaleSuggestion(f"{report_id} is not stored any more; nothing changed")
    return record


def readable_report(store: BugStore, report_id: str, actor: Actor) -> BugRecord:
    """The stored Slack report `report_id` if the actor reads it; else `unseen` (missing or not theirs)."""
    try:
        report = report_of(store, report_id)
    except StaleSuggestion:
        raise unseen(parse_ticket_id(report_id)) from None
    if not actor.reads.may_read(report):
        raise unseen(report.home_id)
    return report


def may_link_report(store: BugStore, report: BugRecord, actor: Actor, target: str | None = None) -> bool:
    """The permission rule for a report the actor reads: BUG_LINKERS unset, its readers; set, the people it
    names, and the report's author while every record under it is one of her own Slack reports (a linker
    may have filed a ticket under it: moving that is not hers to do). `target`: a link to where the report
    already lives moves nothing and is allowed to its author (a repeated tag)."""
    if not actor.reads.may_read(report):
        return False
    if actor.linker or not actor.linkers_named:
        return True
    if actor.user != report.attributes.get("author"):
        return False
    if target is not None and store.resolve(target)[-1] == report.location:
        return True
    return only_own_records(store, report.home_id, actor.user)


def only_own_records(store: BugStore, report_id: str, user: str) -> bool:
    """Every record under report_id (deleted ones too) is a Slack report `user` wrote; nothing stored: yes."""
    try:
        view = store.show(report_id, include_deleted=True)
    except TicketNotFound:
        return True
    return all(r.source_system == "slack" and r.attributes.get("author") == user for r in view.records)


def check_may_link(report: BugRecord, actor: Actor, store: BugStore) -> None:
    if not actor.reads.may_read(report):
        raise unseen(report.home_id)
    if not may_link_report(store, report, actor):
        raise LinkDenied(DENIED)


def check_readable(store: BugStore, ticket_id: str, actor: Actor, whole: bool = True) -> None:
    """`ticket_id` exists and the actor reads it (`whole`: every record under it, what a link or unlink
    moves; else its own record); otherwise `unseen`, the same line either way."""
    try:
        view = store.show(ticket_id, include_deleted=True)
    except TicketNotFound:
        raise unseen(ticket_id) from None
    records = view.records if whole else [r for r in view.records if r.home_id == ticket_id]
    if not records or not all(actor.reads.may_read(r) for r in records):
        raise unseen(ticket_id)


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


def stored(store: BugStore, ticket_id: str) -> bool:
    """A Slack report counts as stored (it can only be linked if it is); a ticket / story only if a pull or
    an earlier link stored it."""
    source = source_of(ticket_id)
    return source == "slack" or store.get_record(source, ticket_id.split("-", 1)[1]) is not None


def read_unknown(
    store: BugStore, upstreams: Upstreams | None, target: str, actor: Actor
) -> tuple[BugRecord | None, str | None]:
    """Before a link to a Zendesk ticket / Shortcut story the store has not seen: it is read from its system
    for someone who may read tickets, when the configured pull would take it. Returns (the record, to store
    once the link is made, None), or (None, a note) when that system is not configured (linked all the
    same), or (None, None) when nobody is asked (no upstreams given). Raises `unseen` for an item that does
    not exist, that the pull would not take, or when the person may not read tickets."""
    if not actor.reads.reads_any:
        raise unseen(target)
    if upstreams is None:
        return None, None
    source = source_of(target)
    reader = upstreams.reader(source)
    if reader is None:
        system = systems.name(source)
        return None, f"{target} is not known here ({system} is not configured); linked all the same"
    record = reader.fetch(int(target.split("-", 1)[1]))
    if record is None or not upstreams.takes(record):
        raise unseen(target)
    return record, None


def link(
    store: BugStore, source_id: str, target_id: str, actor: Actor, upstreams: Upstreams | None = None
) -> LinkResult:
    """Move what lives under `source_id` under `target_id`. The result's `note` says when the target could not
    be checked (its system not configured)."""
    source, target = parse_ticket_id(source_id), parse_ticket_id(target_id)
    check_readable(store, source, actor)
    fetched, note = None, None
    if stored(store, target):
        check_readable(store, target, actor, whole=False)
    else:
        fetched, note = read_unknown(store, upstreams, target, actor)
    _check_permission(store, source, actor, target)
    result = store.link(source, target, actor.user)
    if fetched is not None:
        store.upsert(fetched)  # only now: a refused link stores nothing it read
    return replace(result, note=note) if note else result


def unlink(store: BugStore, ticket_id: str, actor: Actor) -> LinkResult:
    ticket = parse_ticket_id(ticket_id)
    check_readable(store, ticket, actor)
    _check_permission(store, ticket, actor)
    return store.unlink(ticket, actor.user)


def _check_permission(store: BugStore, ticket_id: str, actor: Actor, target: str | None = None) -> None:
    """For a reader of everything that moves: the permission rule (may_link_report) on its own record."""
    if actor.linker or not actor.linkers_named:
        return
    own = [r for r in store.show(ticket_id, include_deleted=True).records if r.home_id == ticket_id]
    if not own or not may_link_report(store, own[0], actor, target):
        raise LinkDenied(DENIED)


def link_report(
    store: BugStore, report_id: str, target_id: str, actor: Actor, upstreams: Upstreams | None = None
) -> LinkResult:
    """Link a report to a suggested (or typed) ticket: `link`, after the checks a button needs (stale: the
    report was deleted or already lives under another ticket)."""
    report = readable_report(store, report_id, actor)
    check_may_link(report, actor, store)
    target = parse_ticket_id(target_id)
    if report.deleted:
        raise StaleSuggestion(f"{report.home_id} was deleted; nothing changed")
    here = report.location
    if here != report.home_id and here != store.resolve(target)[-1]:
        raise StaleSuggestion(f"{report.home_id} is already linked to {here}; nothing changed")
    return link(store, report.home_id, target, actor, upstreams)
