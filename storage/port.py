"""The port: what a store must implement, and nothing more. The semantics built on it (placement, upserts,
links, leases, queries, the recount) are written once above it, in storage/store.py and the modules it
names; a store never re-implements them.

Two implementations: `storage.dynamodb.DynamoDBTable` (the product's table) and `storage.sqlite.SqliteTable`
(the embedded default). Each reads partitions, aliases, records, leases and the alias-graph version, and
`commit`s a list of conditional writes atomically (storage/primitives.py); it answers its own index queries
(lists, counters, meta) from its indexes. Both pass one contract suite (tests/integration/storage/).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from storage.errors import ConditionFailed
from storage.impact import Impact
from storage.model import BugRecord
from storage.primitives import Alias, InsertRecord, Lease, Partition, PutImpact, Write
from storage.values import Counts, Page

Progress = Callable[[str], None]
Advance = Callable[[int], None]  # n more records read by a pass (a progress bar)


class StorePort(ABC):
    """The primitives of one store. Errors are the exceptions of storage.errors; a failed condition is
    ConditionFailed, which the semantics above catch and retry (it never reaches a caller)."""

    description: str  # for the start-up log line: which store, where
    records_per_transaction: int | None = None  # records moved per commit; None: all in one
    # True when one operation's commits stand or fall together (SQLite's one transaction around it); False
    # when each commit stands on its own once made (DynamoDB).
    operation_is_atomic: bool = False

    # -- lifecycle -------------------------------------------------------------------------------
    @abstractmethod
    def init(self) -> None:
        """Create the table / schema if missing (idempotent)."""

    @abstractmethod
    def check(self) -> None:
        """Raise StoreUnavailable unless the store answers and its table exists."""

    def close(self) -> None:
        """Give back what the store holds open (a file); it opens again on next use."""
        return None  # nothing to do unless a store says otherwise

    def after_erase(self) -> None:
        """After words were erased: make sure no copy of them lingers in the store's own files (a WAL)."""
        return None  # nothing to do unless a store says otherwise

    def prepare_migration(self, progress: Progress, manage_indexes: bool, advance: Advance | None) -> None:
        """The store's own schema steps of `migrate`, before the recount (indexes, backfills)."""
        return None  # nothing to do unless a store says otherwise

    def finish_migration(self, progress: Progress, manage_indexes: bool) -> None:
        """The store's own schema steps of `migrate`, after the recount (dropping what is no longer used)."""
        return None  # nothing to do unless a store says otherwise

    # -- around an operation ----------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[Any]:
        """Around one whole operation: SQLite serialises it in one database transaction (so none of its
        commits can lose a race); DynamoDB has no such thing and relies on each commit's conditions."""
        return nullcontext()

    def snapshot(self) -> AbstractContextManager[Any]:
        """Around the reads of one `show`: one consistent view where the store can give one."""
        return nullcontext()

    # -- reads -------------------------------------------------------------------------------------
    @abstractmethod
    def read_partition(self, ticket_id: str) -> Partition:
        """Everything under ticket_id, strongly consistent."""

    @abstractmethod
    def read_alias(self, ticket_id: str) -> Alias | None: ...

    def read_aliases(self, ticket_ids: Iterable[str]) -> dict[str, Alias | None]:
        """The alias (or None) of each of many ids (stores batch the reads)."""
        return {ticket_id: self.read_alias(ticket_id) for ticket_id in dict.fromkeys(ticket_ids)}

    @abstractmethod
    def read_record(self, source_system: str, record_id: str) -> BugRecord | None:
        """The stored copy of one source record with ticket_id = where it lives; ConditionFailed when it
        moved while being read."""

    def read_records(self, records: Sequence[BugRecord]) -> dict[str, BugRecord | None]:
        """The stored copy (or None) of each record's source record, by `source_record` (stores batch the
        reads). One that moved while being read is left out: read it alone."""
        found: dict[str, BugRecord | None] = {}
        for record in records:
            try:
                found[record.source_record] = self.read_record(record.source_system, record.record_id)
            except ConditionFailed:
                continue
        return found

    @abstractmethod
    def read_graph_version(self) -> int:
        """The alias graph's version (0 before the first alias)."""

    @abstractmethod
    def read_lease(self, name: str) -> Lease | None: ...

    # -- writes ------------------------------------------------------------------------------------
    @abstractmethod
    def commit(self, writes: list[Write]) -> None:
        """Apply every write or none (storage/primitives.py); ConditionFailed when a condition fails."""

    def put_new_records(self, records: Sequence[BugRecord]) -> None:
        """Store records read as not stored, at their home ids, which had no alias when read, and add
        them to the counters. A store may write them without conditions (DynamoDB's batch writes cannot
        carry any): the caller then reads the homes' aliases again and moves what a link left behind."""
        for record in records:
            self.commit([InsertRecord(record, record.home_id, (record.home_id,))])

    def put_new_impacts(self, tallies: Sequence[Impact]) -> None:
        """Store the tallies of ticket ids read as having none (the homes of records put_new_records just
        wrote). A store may write them without conditions, as it wrote the records (a tally written meanwhile
        by a link into such a home is then overwritten: the recount corrects it)."""
        for tally in tallies:
            self.commit([PutImpact(tally.ticket_id, tally, None)])

    # -- index queries: each store answers them from its indexes ------------------------------------
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
        """Newest first, by created time; the filters given combine (AND). None given: every live record
        (archived stories only when asked for by state, as with any filter but state)."""

    @abstractmethod
    def unlinked_slack(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        """Slack reports still under their own SL- id, newest first."""

    @abstractmethod
    def counts(self) -> Counts:
        """Counts by priority, state, state type and source: the counters kept by every write (a keyed read
        or two, whatever the number of records; storage/counters.py)."""

    @abstractmethod
    def new_per_day(self, since: str, until: str) -> dict[str, dict[str, int]]:
        """{source: {"YYYY-MM-DD": n}}: live records created on each UTC day from since's day to until's
        (ISO dates or timestamps; a timestamp counts its whole day), from the per-day counters."""

    # -- counters: kept by every commit; read, scanned and corrected by the recount ----------------------
    @abstractmethod
    def read_counters(self) -> dict[str, int]:
        """Every counter as kept (storage/counters.py names), zeros left out."""

    @abstractmethod
    def scan_records(self) -> Iterator[BugRecord]:
        """Every stored record (deleted ones included), read in pages: the recount's full pass."""

    @abstractmethod
    def adjust_counters(self, change: dict[str, int]) -> None:
        """Add change to the counters (atomic adds: concurrent writers' own adds are kept)."""

    # -- bookkeeping -------------------------------------------------------------------------------
    # -- impact per bug (storage/impact.py): one tally per ticket id, written by commits (PutImpact) ----
    @abstractmethod
    def read_impacts(self, ticket_ids: Iterable[str]) -> dict[str, Impact | None]:
        """The stored tally of each ticket id (None: none), strongly consistent (stores batch the reads)."""

    @abstractmethod
    def top_impacts(self, limit: int) -> list[Impact]:
        """Open bugs, highest rank first: one read of the sparse ranked index, whatever the table's size."""

    @abstractmethod
    def scan_impacts(self) -> Iterator[Impact]:
        """Every stored tally (the recount's pass)."""

    @abstractmethod
    def get_meta(self, key: str) -> dict[str, Any] | None:
        """A small JSON-able value saved under key (sync cursors, watermarks)."""

    @abstractmethod
    def put_meta(self, key: str, value: dict[str, Any]) -> None: ...

    @abstractmethod
    def add_meta(self, key: str, value: dict[str, Any]) -> bool:
        """Save value under key unless something is saved there already (one conditional write); whether
        it was saved."""

    @abstractmethod
    def read_list(self, name: str, limit: int) -> list[str]:
        """The newest `limit` members of a list kept by AddToList writes (storage/primitives.py)."""

    @abstractmethod
    def ticket_ids_in_use(self) -> set[str]:
        """Every ticket id some record lives under (deleted ones included)."""
