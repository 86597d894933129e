"""The semantics both stores share, written once: alias resolution, newer-wins, link refusals, views."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from storage.errors import BugTrackerError, LinkRefused, NothingToLink, TicketNotFound
from storage.model import PRIORITIES, SOURCES, BugRecord
from storage.primitives import Lease
from storage.values import AuditEntry, TicketView, UpsertOutcome

AliasLookup = Callable[[str], str | None]

MAX_CHAIN = 32  # aliases are written acyclic; the bound only guards against corrupted data
MAX_PAGE = 500


def resolve_chain(ticket_id: str, target_of: AliasLookup) -> tuple[str, ...]:
    """Follow aliases from ticket_id: (ticket_id, ..., where its records live)."""
    chain = [ticket_id]
    while len(chain) <= MAX_CHAIN:
        target = target_of(chain[-1])
        if target is None or target in chain:
            return tuple(chain)
        chain.append(target)
    return tuple(chain)


def compare(stored: BugRecord, incoming: BugRecord) -> UpsertOutcome:
    """Newer-wins: only a strictly newer copy that says something different replaces the stored one.

    "Newer" is judged by `version`: the source's own version (Zendesk's generated_timestamp) when the record
    carries one, else updated_at. A copy with a newer version but the same content changes nothing.
    """
    if stored.same_content(incoming):
        return UpsertOutcome.UNCHANGED
    if incoming.version > stored.version:
        return UpsertOutcome.UPDATED
    return UpsertOutcome.STALE


def check_relink(source_id: str, target_id: str, existing_target: str) -> None:
    if existing_target != target_id:
        raise LinkRefused(f"{source_id} is already linked to {existing_target}; unlink it first")


def check_link(
    source_id: str, target_id: str, target_chain: tuple[str, ...], source_has_records: bool
) -> None:
    if source_id == target_id:
        raise LinkRefused(f"cannot link {source_id} to itself")
    if source_id in target_chain:
        raise LinkRefused(
            f"linking {source_id} to {target_id} would make a cycle: {' -> '.join(target_chain)} already"
        )
    if not source_has_records:
        raise NothingToLink(f"{source_id} has no records to link; check the id with show")


def check_unlink(ticket_id: str, target: str | None) -> str:
    if target is None:
        raise not_linked(ticket_id)
    return target


def not_linked(ticket_id: str) -> LinkRefused:
    return LinkRefused(f"{ticket_id} is not linked to anything")


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise BugTrackerError(f"page size must be between 1 and {MAX_PAGE}")


def check_list_filters(priority: str | None, state: str | None, source: str | None, limit: int) -> None:
    check_limit(limit)
    if priority is not None and priority not in PRIORITIES:
        raise BugTrackerError(f"unknown priority '{priority}'; use one of {', '.join(PRIORITIES)}")
    if source is not None and source not in SOURCES:
        raise BugTrackerError(f"unknown source '{source}'; use one of {', '.join(SOURCES)}")


def unique_audit(entries: Iterable[AuditEntry]) -> tuple[AuditEntry, ...]:
    """Audit entries are kept under both ids a link touched; a view shows each event once, oldest first."""
    return tuple(sorted(set(entries), key=lambda entry: (entry.at, entry.action, entry.from_id)))


def build_view(
    requested: str,
    chain: tuple[str, ...],
    records: Iterable[BugRecord],
    audit: tuple[AuditEntry, ...],
    include_deleted: bool,
    link_in_progress: bool = False,
) -> TicketView:
    every = sorted(records, key=lambda record: (record.created_at, record.source_record))
    if not every and not audit and len(chain) == 1:
        raise TicketNotFound(f"nothing is stored under {requested}")
    shown = tuple(record for record in every if include_deleted or not record.deleted)
    hidden = len(every) - len(shown)
    return TicketView(requested, chain[-1], chain, shown, audit, link_in_progress, hidden)


def lease_takeable(held: Lease | None, owner: str, now: float, take_over: str | None = None) -> bool:
    """The one lease rule: free when nobody holds it, when owner holds it (a renewal), or when it has
    expired; a lease is valid up to, not including, its expiry (at expires_at == now it can be taken).
    `take_over`: the caller knows this holder is dead (a process gone on this host) and may replace it."""
    return (
        held is None
        or held.owner == owner
        or held.expires_at <= now
        or (take_over is not None and held.owner == take_over)
    )
