"""Transport-agnostic verbs over the store: the Slack listeners, the console and the CLI all call these.

They validate what people typed (ticket ids, priorities, sources) and raise BugTrackerError with a message
for the person; rendering is the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.errors import BugTrackerError
from storage.model import PRIORITIES, SOURCES, normalize_priority, parse_ticket_id
from storage.store import BugStore, Counts, LinkResult, Page, TicketView

LIST_KINDS = ("priority", "state", "source")
PAGE_SIZE = 20


class UsageError(BugTrackerError):
    """The request was understood as a command but its arguments are not valid."""


@dataclass(frozen=True)
class ListRequest:
    kind: str
    value: str
    since: str | None = None
    until: str | None = None


def show_ticket(store: BugStore, ticket_id: str, include_deleted: bool = False) -> TicketView:
    return store.show(parse_ticket_id(ticket_id), include_deleted=include_deleted)


def link_tickets(store: BugStore, source_id: str, target_id: str, actor: str) -> LinkResult:
    return store.link(parse_ticket_id(source_id), parse_ticket_id(target_id), actor)


def unlink_ticket(store: BugStore, ticket_id: str, actor: str) -> LinkResult:
    return store.unlink(parse_ticket_id(ticket_id), actor)


def normalize_list_request(
    kind: str, value: str, since: str | None = None, until: str | None = None
) -> ListRequest:
    """Check a list filter as typed by a person: `priority p1`, `source Slack`, `state open`."""
    kind = kind.strip().lower()
    if kind not in LIST_KINDS:
        raise UsageError(f"cannot list by '{kind}'; list by {', '.join(LIST_KINDS)}")
    value = value.strip()
    if not value:
        raise UsageError(f"list by {kind} needs a value")
    if kind == "priority":
        value = normalize_priority(value) or ""
        if value not in PRIORITIES:
            raise UsageError(f"list by priority needs one of {', '.join(PRIORITIES)}")
    elif kind == "source":
        value = value.lower()
        if value not in SOURCES:
            raise UsageError(f"unknown source '{value}'; use one of {', '.join(SOURCES)}")
    for name, moment in (("since", since), ("until", until)):
        if moment is not None:
            _check_date(name, moment)
    return ListRequest(kind, value, since, until)


def _check_date(name: str, text: str) -> None:
    from storage.model import parse_timestamp

    try:
        parse_timestamp(text)
    except ValueError:
        raise UsageError(f"--{name} needs a date like 2026-11-01, not '{text}'") from None


def list_bugs(
    store: BugStore, request: ListRequest, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page:
    return store.list_records(
        **{request.kind: request.value}, since=request.since, until=request.until, limit=limit, cursor=cursor
    )


def unlinked_reports(store: BugStore, cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    return store.unlinked_slack(limit=limit, cursor=cursor)


def stats(store: BugStore) -> Counts:
    return store.counts()
