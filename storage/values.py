"""The values the store returns: upsert outcomes, link results, ticket views, pages and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from storage.model import BugRecord


class UpsertOutcome(StrEnum):
    INSERTED = "inserted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # identical copy: nothing written
    STALE = "stale"  # older copy than the stored one: nothing written


@dataclass(frozen=True)
class UpsertResult:
    outcome: UpsertOutcome
    ticket_id: str  # where the record lives after the call


@dataclass(frozen=True)
class AuditEntry:
    action: str  # "link" or "unlink"
    from_id: str
    to_id: str
    actor: str
    at: str
    moved: int


@dataclass(frozen=True)
class LinkResult:
    source_id: str
    target_id: str  # as asked
    resolved_target: str  # where the records went (the end of the alias chain)
    moved: tuple[str, ...]  # source records moved, e.g. ("slack#1732712345.123456",)
    already: bool = False  # nothing to do: the link was in place
    note: str | None = None  # said beside the result (e.g. the target could not be checked upstream)


@dataclass(frozen=True)
class TicketView:
    requested_id: str
    ticket_id: str  # the id the records live under (differs when requested_id was linked)
    alias_chain: tuple[str, ...]  # requested_id ... ticket_id, length 1 when not linked
    records: tuple[BugRecord, ...]
    audit: tuple[AuditEntry, ...]
    link_in_progress: bool = False  # a link or unlink is still moving records here (shown where they are)
    hidden_deleted: int = 0  # records deleted upstream left out of `records` (include_deleted=False)

    @property
    def was_linked(self) -> bool:
        return self.requested_id != self.ticket_id


@dataclass(frozen=True)
class Page:
    """Index rows carry the summary fields (no `attributes`); `next_cursor` is None on the last page."""

    records: tuple[BugRecord, ...]
    next_cursor: str | None


@dataclass
class Counts:
    """Counts of live (not deleted) records; `deleted` counts the rest."""

    total: int = 0
    deleted: int = 0
    by_priority: dict[str, int] = field(default_factory=dict)  # "none" for records without one
    by_state: dict[str, int] = field(default_factory=dict)
    by_state_type: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
    open_by_priority: dict[str, int] = field(default_factory=dict)  # state type not "done"
    open_by_source: dict[str, int] = field(default_factory=dict)
    slack_linked: int = 0  # Slack reports living under another ticket id
    slack_unlinked: int = 0

    def add(self, record: BugRecord) -> None:
        if record.deleted:
            self.deleted += 1
            return
        self.total += 1
        priority = record.priority or "none"
        _bump(self.by_priority, priority)
        _bump(self.by_source, record.source_system)
        if record.state:
            _bump(self.by_state, record.state)
        _bump(self.by_state_type, record.state_type or "none")
        if record.state_type != "done":
            _bump(self.open_by_priority, priority)
            _bump(self.open_by_source, record.source_system)
        if record.source_system == "slack":
            if record.location == record.home_id:
                self.slack_unlinked += 1
            else:
                self.slack_linked += 1


def _bump(counter: dict[str, int], key: str) -> None:
    counter[key] = counter.get(key, 0) + 1
