"""The store's interface (the port) and the values it returns.

Two implementations: `storage.dynamodb.DynamoDBStore` (the product's table) and `storage.sqlite.SqliteStore`
(the embedded default). Both pass the one contract suite, tests/integration/storage/ (run on both).

Placement rule shared by both: a record lives under `resolve(record.home_id)`, where `resolve` follows
aliases written by `link` (SL-1 -> ZD-5 -> ZD-7 resolves to ZD-7).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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


@dataclass(frozen=True)
class TicketView:
    requested_id: str
    ticket_id: str  # the id the records live under (differs when requested_id was linked)
    alias_chain: tuple[str, ...]  # requested_id ... ticket_id, length 1 when not linked
    records: tuple[BugRecord, ...]
    audit: tuple[AuditEntry, ...]
    link_in_progress: bool = False

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


class BugStore(ABC):
    """Everything the product does with stored bugs. Errors are the exceptions of storage.errors."""

    description: str  # for the start-up log line: which store, where

    @abstractmethod
    def init(self) -> None:
        """Create the table / schema if missing (idempotent)."""

    @abstractmethod
    def check(self) -> None:
        """Raise StoreUnavailable unless the store answers and its table exists."""

    # -- writes --------------------------------------------------------------------------------
    @abstractmethod
    def upsert(self, record: BugRecord) -> UpsertResult:
        """Newer-wins, idempotent write under resolve(record.home_id) (or wherever it already lives)."""

    def upsert_many(self, records: Iterable[BugRecord]) -> list[UpsertResult]:
        """Same semantics as upsert for each record; implementations batch reads and new-record writes."""
        return [self.upsert(record) for record in records]

    def upsert_linked(self, record: BugRecord, target_id: str, actor: str) -> tuple[UpsertResult, LinkResult]:
        """Upsert the record and link its home id to target_id (a Slack report tagged `ticketId=ZD-1`).

        A new record is stored under the target from the start, atomically with its alias. The record is
        stored even when the link is refused (LinkRefused is raised after the write).
        """
        result = self.upsert(record)
        link = self.link(record.home_id, target_id, actor)
        return UpsertResult(result.outcome, link.resolved_target), link

    @abstractmethod
    def get_record(self, source_system: str, record_id: str) -> BugRecord | None:
        """The stored copy of one source record, wherever it lives now (deleted ones included)."""

    @abstractmethod
    def link(self, source_id: str, target_id: str, actor: str) -> LinkResult:
        """Move every record under source_id to resolve(target_id) and alias source_id -> target_id.

        Refused (LinkRefused): source == target, a cycle, a source with no records, a source already
        linked elsewhere. Re-running an interrupted link completes it.
        """

    @abstractmethod
    def unlink(self, ticket_id: str, actor: str) -> LinkResult:
        """Remove ticket_id's alias; records whose home now resolves elsewhere move back there."""

    @abstractmethod
    def resolve(self, ticket_id: str) -> tuple[str, ...]:
        """The alias chain from ticket_id to the id its records live under (length 1: not linked)."""

    # -- reads ---------------------------------------------------------------------------------
    @abstractmethod
    def show(self, ticket_id: str, include_deleted: bool = False) -> TicketView:
        """All records under the ticket (following aliases); TicketNotFound when nothing is known."""

    @abstractmethod
    def list_records(
        self,
        *,
        priority: str | None = None,
        state: str | None = None,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Newest first, by created time. At least one of priority / state / source is required."""

    @abstractmethod
    def unlinked_slack(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        """Slack reports still under their own SL- id, newest first."""

    @abstractmethod
    def counts(self) -> Counts:
        """Counts by priority, state, state type and source, from the indexes (no table scan)."""

    @abstractmethod
    def new_per_day(self, since: str, until: str) -> dict[str, dict[str, int]]:
        """{source: {"YYYY-MM-DD": n}} for records created in [since, until] (ISO dates or timestamps)."""

    # -- bookkeeping for the scheduled pulls -----------------------------------------------------
    @abstractmethod
    def get_meta(self, key: str) -> dict[str, Any] | None:
        """A small JSON-able value saved under key (sync cursors, watermarks)."""

    @abstractmethod
    def put_meta(self, key: str, value: dict[str, Any]) -> None: ...

    @abstractmethod
    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take or renew the lease `name` for owner; False when another owner holds an unexpired one."""

    @abstractmethod
    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease up if owner holds it."""
