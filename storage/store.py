"""The store's interface (the port), with the semantics written once above each store's primitives.

Two implementations: `storage.dynamodb.DynamoDBStore` (the product's table) and `storage.sqlite.SqliteStore`
(the embedded default). They implement the primitives of storage/primitives.py (read a partition, an alias,
a record, a lease, the alias-graph version; commit a list of conditional writes atomically) and their own
index queries; everything else is here, once: id canonicalisation, upsert, link, unlink, show, alias-chain
walking, the audit entries, "a refused link still stores the record", leases, and the script calls
`get_bug_by_ticket_id` / `get_bugs_by_*`. Both pass one contract suite (tests/integration/storage/).

Placement rule: a record lives under `resolve(record.home_id)`, where `resolve` follows the active aliases
written by `link` (SL-1 -> ZD-5 -> ZD-7 resolves to ZD-7). How a link keeps it (docs/design.md):
1. its alias is written first (state moving), bumping the alias-graph version; new records follow it at once;
2. records move in batches (`records_per_transaction`), each batch conditional on the records being as read
   and on the graph version, the last batch also marking the alias linked and writing the audit entries;
3. a batch that loses a race is planned again from fresh reads; a killed link is finished by running it
   again (or by an unlink of the same id). Unlink mirrors it: the alias turns `unlinking` (no longer
   followed), records whose home now resolves elsewhere move back, the last batch removes the alias.
Conditional failures never escape: they are retried, then reported as ConcurrentUpdate (a BugTrackerError).
"""

from __future__ import annotations

import functools
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any

from storage import counters, rules
from storage.errors import ConcurrentUpdate, ConditionFailed, InvalidTicketId, LinkRefused
from storage.model import (
    BugRecord,
    is_canonical_ticket_id,
    normalize_priority,
    now_timestamp,
    parse_ticket_id,
)
from storage.primitives import (
    LINKED,
    MOVING,
    UNLINKING,
    AddAlias,
    Alias,
    BumpGraph,
    ChangeAlias,
    CheckGraph,
    InsertRecord,
    Lease,
    MoveRecord,
    Partition,
    PutLease,
    RemoveLease,
    ReplaceRecord,
    Write,
    WriteAudit,
)
from storage.values import (
    AuditEntry,
    Counts,
    LinkResult,
    Page,
    TicketView,
    UpsertOutcome,
    UpsertResult,
)

__all__ = [
    "AuditEntry",
    "BugStore",
    "Counts",
    "LinkResult",
    "Page",
    "TicketView",
    "UpsertOutcome",
    "UpsertResult",
]

MAX_TRIES = 8  # an operation that keeps losing races gives up with ConcurrentUpdate after this many
MAX_MOVE_ROUNDS = 32  # rounds of planning and moving one partition's records before giving up
SCRIPT_PAGE = 200  # page size of the get_bugs_by_* generators
UNREAD = object()  # upsert(seen=...) not given: the stored copy is read first
RECOUNT_META = "counts:recount"  # the last recount: {at, drift, counters, uncorrected}


class BugStore(ABC):
    """Everything the product does with stored bugs. Errors are the exceptions of storage.errors."""

    description: str  # for the start-up log line: which store, where
    records_per_transaction: int | None = None  # records moved per commit; None: all in one
    clock: Callable[[], float] = staticmethod(time.time)  # for leases; tests set their own

    # == primitives: each store implements these ==================================================
    @abstractmethod
    def init(self) -> None:
        """Create the table / schema if missing (idempotent)."""

    @abstractmethod
    def check(self) -> None:
        """Raise StoreUnavailable unless the store answers and its table exists."""

    def transaction(self) -> AbstractContextManager[Any]:
        """Around one whole operation: SQLite serialises it in one database transaction (so none of its
        commits can lose a race); DynamoDB has no such thing and relies on each commit's conditions."""
        return nullcontext()

    def snapshot(self) -> AbstractContextManager[Any]:
        """Around the reads of one `show`: one consistent view where the store can give one."""
        return nullcontext()

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

    @abstractmethod
    def read_graph_version(self) -> int:
        """The alias graph's version (0 before the first alias)."""

    @abstractmethod
    def read_lease(self, name: str) -> Lease | None: ...

    @abstractmethod
    def commit(self, writes: list[Write]) -> None:
        """Apply every write or none (storage/primitives.py); ConditionFailed when a condition fails."""

    # == index queries: each store answers them from its indexes ====================================
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

    # == counters: kept by every commit; read, scanned and corrected by the recount ====================
    @abstractmethod
    def read_counters(self) -> dict[str, int]:
        """Every counter as kept (storage/counters.py names), zeros left out."""

    @abstractmethod
    def scan_records(self) -> Iterator[BugRecord]:
        """Every stored record (deleted ones included), read in pages: the recount's full pass."""

    @abstractmethod
    def adjust_counters(self, change: dict[str, int]) -> None:
        """Add change to the counters (atomic adds: concurrent writers' own adds are kept)."""

    def migrate(
        self,
        progress: Callable[[str], None] = print,
        manage_indexes: bool = False,
        advance: Callable[[int], None] | None = None,
    ) -> None:
        """Bring an existing store to this schema (idempotent, resumable), then recount. manage_indexes:
        the store may change its own indexes (DynamoDB on a local endpoint; on AWS they are Terraform's).
        progress: one line per step; advance(n): n more records read by a pass (a progress bar)."""
        progress("recounting the counters")
        drift = self.recount(advance)
        progress(f"counters set ({len(drift)} counter(s) corrected)")

    def recount(self, advance: Callable[[int], None] | None = None) -> dict[str, int]:
        """Count every record again and correct the counters; returns the drift found (recounted - kept).
        advance(n): called as records are read (a progress bar over a pass that may take a minute).

        Counters that changed while the records were read (a write meanwhile) are not corrected this time
        on a store without one transaction around the pass (DynamoDB): their drift is reported and the
        next recount corrects it. The result is saved (meta `counts:recount`) for the drift gauge."""
        with self.transaction():
            before = self.read_counters()
            recounted = counters.tally(_reported(self.scan_records(), advance))
            after = self.read_counters()
            moving = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
            found = counters.drift(after, recounted)
            correction = {name: number for name, number in found.items() if name not in moving}
            if correction:
                self.adjust_counters(correction)
        self.put_meta(
            RECOUNT_META,
            {
                "at": now_timestamp(),
                "drift": sum(abs(number) for number in found.values()),
                "counters": found,
                "uncorrected": sorted(set(found) - set(correction)),
            },
        )
        return found

    @abstractmethod
    def get_meta(self, key: str) -> dict[str, Any] | None:
        """A small JSON-able value saved under key (sync cursors, watermarks)."""

    @abstractmethod
    def put_meta(self, key: str, value: dict[str, Any]) -> None: ...

    @abstractmethod
    def ticket_ids_in_use(self) -> set[str]:
        """Every ticket id some record lives under (deleted ones included), from the indexes: no scan."""

    # == the semantics, written once ================================================================
    # -- resolving ----------------------------------------------------------------------------------
    def resolve(self, ticket_id: str) -> tuple[str, ...]:
        """The alias chain from ticket_id to the id its records live under (length 1: not linked)."""
        return self._chain(parse_ticket_id(ticket_id))

    def _chain(self, ticket_id: str, lookup: rules.AliasLookup | None = None) -> tuple[str, ...]:
        return rules.resolve_chain(ticket_id, lookup or self._alias_lookup())

    def _alias_lookup(self, known: dict[str, Alias | None] | None = None) -> rules.AliasLookup:
        """Active alias targets, each id read at most once (`known`: aliases already read in a batch)."""

        @functools.cache
        def target_of(ticket_id: str) -> str | None:
            alias = (
                known[ticket_id] if known is not None and ticket_id in known else self.read_alias(ticket_id)
            )
            return alias.target_id if alias is not None and alias.active else None

        return target_of

    # -- upserts ------------------------------------------------------------------------------------
    def upsert(self, record: BugRecord, *, seen: BugRecord | None | object = UNREAD) -> UpsertResult:
        """Newer-wins, idempotent write under resolve(record.home_id) (or wherever it already lives).

        `seen`: the stored copy the caller has just read (None: not stored), which saves reading it again;
        the writes are conditional on it, so a copy that changed meanwhile is read again and retried. A
        record not stored is first tried at its home with no alias read (the insert's condition checks
        that home has no active alias): one request for a new record, whose home is rarely linked."""
        with self.transaction():
            for attempt in range(MAX_TRIES):
                try:
                    if attempt == 0 and seen is not UNREAD:
                        stored = seen if isinstance(seen, BugRecord) else None
                        if stored is None:
                            home = record.home_id
                            self.commit([InsertRecord(record, home, (home,))])
                            return UpsertResult(UpsertOutcome.INSERTED, home)
                    else:
                        stored = self.read_record(record.source_system, record.record_id)
                    if stored is None:
                        chain = self._chain(record.home_id)
                        self.commit([InsertRecord(record, chain[-1], chain)])
                        return UpsertResult(UpsertOutcome.INSERTED, chain[-1])
                    return self._update_stored(record, stored)
                except ConditionFailed:
                    continue  # another writer or a link moved it meanwhile: read again
        raise ConcurrentUpdate(f"{record.source_record} kept changing while we wrote it; try again")

    def _update_stored(self, record: BugRecord, stored: BugRecord) -> UpsertResult:
        """The newer-wins write of record over the copy read (ConditionFailed if it changed since)."""
        outcome = rules.compare(stored, record)
        if outcome is UpsertOutcome.UPDATED:
            self.commit([ReplaceRecord(record, stored)])
        return UpsertResult(outcome, stored.location)

    def erase(self, stored: BugRecord, kept: BugRecord) -> bool:
        """Replace the copy read (`stored`) with `kept`, whatever their versions: what a source deleted is
        erased, not compared. False when the copy changed meanwhile (read it again and retry)."""
        with self.transaction():
            try:
                self.commit([ReplaceRecord(replace(kept, ticket_id=None), stored)])
            except ConditionFailed:
                return False
        return True

    def upsert_many(self, records: Iterable[BugRecord]) -> list[UpsertResult]:
        """Same semantics as upsert for each record; stores may batch reads and new-record writes."""
        with self.transaction():
            return [self.upsert(record) for record in records]

    def upsert_linked(self, record: BugRecord, target_id: str, actor: str) -> tuple[UpsertResult, LinkResult]:
        """Upsert the record and link its home id to target_id (a Slack report tagged `ticketId=ZD-1`).

        A new record whose home id holds nothing is stored under the target from the start, atomically with
        its alias and audit entry. The record is stored even when the link is refused (LinkRefused is
        raised after the write)."""
        target_id = parse_ticket_id(target_id)
        refusal: LinkRefused | None = None
        with self.transaction():
            first = self._insert_linked(record, target_id, actor)
            if first is not None:
                return first
            result = self.upsert(record)
            try:
                link = self._link(record.home_id, target_id, actor)
            except LinkRefused as exc:
                refusal = exc
        if refusal is not None:
            raise refusal
        return UpsertResult(result.outcome, link.resolved_target), link

    def _insert_linked(
        self, record: BugRecord, target_id: str, actor: str
    ) -> tuple[UpsertResult, LinkResult] | None:
        """One commit for a new record whose home id has no alias and no records yet; None otherwise."""
        home = record.home_id
        if home == target_id:
            return None
        version = self.read_graph_version()
        at_home = self.read_partition(home)
        try:
            stored = self.read_record(record.source_system, record.record_id)
        except ConditionFailed:
            return None  # moving: not new
        if at_home.records or at_home.alias is not None or stored is not None:
            return None
        chain = self._chain(target_id)
        if home in chain:
            return None  # a cycle: the general path refuses it after storing the record
        destination, now = chain[-1], now_timestamp()
        alias = Alias(home, target_id, LINKED, actor, now, destination)
        entry = AuditEntry("link", home, target_id, actor, now, 1)
        try:
            self.commit(
                [
                    BumpGraph(version),
                    AddAlias(alias),
                    InsertRecord(record, destination, ()),  # the version guards the target's chain
                    _audit((home, destination), entry),
                ]
            )
        except ConditionFailed:
            return None  # another writer got there first: the general path sorts it out
        if self.read_partition(home).records:
            self._settle(home)  # a record that resolved to home was inserted between our read and commit
        return UpsertResult(UpsertOutcome.INSERTED, destination), LinkResult(
            home, target_id, destination, (record.source_record,)
        )

    def get_record(self, source_system: str, record_id: str) -> BugRecord | None:
        """The stored copy of one source record, wherever it lives now (deleted ones included)."""
        for _ in range(MAX_TRIES):
            try:
                return self.read_record(source_system, record_id)
            except ConditionFailed:
                continue  # moved between two reads: read again
        raise ConcurrentUpdate(f"{source_system}#{record_id} kept moving while we read it; try again")

    # -- link / unlink ------------------------------------------------------------------------------
    def link(self, source_id: str, target_id: str, actor: str) -> LinkResult:
        """Move every record under source_id to resolve(target_id) and alias source_id -> target_id.

        Refused (LinkRefused): source == target, a cycle, a source with no records, a source already
        linked elsewhere. Re-running an interrupted link completes it.
        """
        source_id, target_id = parse_ticket_id(source_id), parse_ticket_id(target_id)
        with self.transaction():
            return self._link(source_id, target_id, actor)

    def _link(self, source_id: str, target_id: str, actor: str) -> LinkResult:
        if source_id == target_id:
            raise LinkRefused(f"cannot link {source_id} to itself")
        for _ in range(MAX_TRIES):
            alias = self.read_alias(source_id)
            if alias is not None and alias.state == UNLINKING:
                self._finish_unlink(alias, alias.actor)  # a killed unlink: finish it first
                continue
            if alias is not None:
                rules.check_relink(source_id, target_id, alias.target_id)
                if alias.state == LINKED:
                    return LinkResult(source_id, target_id, self._chain(target_id)[-1], (), already=True)
                return self._finish_link(alias)
            version = self.read_graph_version()
            chain = self._chain(target_id)
            rules.check_link(source_id, target_id, chain, bool(self.read_partition(source_id).records))
            alias = Alias(source_id, target_id, MOVING, actor, now_timestamp(), chain[-1])
            try:
                self.commit([BumpGraph(version), AddAlias(alias)])
            except ConditionFailed:
                continue  # an alias changed meanwhile: look again
            return self._finish_link(alias)
        raise ConcurrentUpdate(f"{source_id} and {target_id} kept changing; try the link again")

    def _finish_link(self, alias: Alias) -> LinkResult:
        """Move what is left under the source; the last batch marks the alias linked and writes the audit."""
        source, target = alias.source_id, alias.target_id
        moved: list[str] = []
        for number in range(MAX_MOVE_ROUNDS):
            current = alias if number == 0 else self.read_alias(source)  # the caller just read or wrote it
            if current is None or current.target_id != target or current.state == UNLINKING:
                raise ConcurrentUpdate(f"{source} was unlinked while it was being linked; run the link again")
            destination = self._chain(target)[-1]
            if current.state == LINKED:  # another run finished it
                return LinkResult(source, target, destination, tuple(moved))

            def finish(count: int, current: Alias = current, destination: str = destination) -> list[Write]:
                entry = AuditEntry("link", source, target, current.actor, now_timestamp(), len(moved) + count)
                return [ChangeAlias(current, LINKED), _audit((source, destination), entry)]

            done = self._move_round(source, finish, moved)
            if done:
                return LinkResult(source, target, destination, tuple(moved))
        raise ConcurrentUpdate(f"records under {source} kept changing while they were moved; run it again")

    def unlink(self, ticket_id: str, actor: str) -> LinkResult:
        """Remove ticket_id's alias; records whose home now resolves elsewhere move back there."""
        ticket_id = parse_ticket_id(ticket_id)
        with self.transaction():
            for _ in range(MAX_TRIES):
                alias = self.read_alias(ticket_id)
                rules.check_unlink(ticket_id, alias.target_id if alias is not None else None)
                assert alias is not None
                if alias.state == MOVING:
                    try:
                        self._finish_link(alias)  # a killed link: finish it, then undo it
                    except ConcurrentUpdate:
                        pass
                    continue
                if alias.state == LINKED:
                    try:
                        self.commit([BumpGraph(self.read_graph_version()), ChangeAlias(alias, UNLINKING)])
                    except ConditionFailed:
                        continue  # another unlink or link of it meanwhile: look again
                    alias = replace(alias, state=UNLINKING)
                result = self._finish_unlink(alias, actor)
                if result is None:  # a racing unlink finished it first
                    raise rules.not_linked(ticket_id)
                return result
        raise ConcurrentUpdate(f"{ticket_id} kept changing while it was unlinked; try again")

    def _finish_unlink(self, alias: Alias, actor: str) -> LinkResult | None:
        """Move records back from where the alias led and remove it (with the audit, in the last batch).
        None when another run removed it first."""
        source, target = alias.source_id, alias.target_id
        moved: list[str] = []
        for number in range(MAX_MOVE_ROUNDS):
            current = alias if number == 0 else self.read_alias(source)  # the caller just read or wrote it
            if current is None or current.state != UNLINKING or current.target_id != target:
                return None
            location = self._chain(target)[-1]

            def finish(count: int, current: Alias = current, location: str = location) -> list[Write]:
                entry = AuditEntry("unlink", source, target, actor, now_timestamp(), len(moved) + count)
                return [ChangeAlias(current, None), _audit((source, location), entry)]

            if self._move_round(location, finish, moved):
                return LinkResult(source, target, location, tuple(moved))
        raise ConcurrentUpdate(f"records under {target} kept changing while they were moved; run it again")

    def _settle(self, location: str) -> list[str]:
        """Move every record under location that belongs elsewhere to where it resolves now."""
        moved: list[str] = []
        for _ in range(MAX_MOVE_ROUNDS):
            if self._move_round(location, None, moved):
                return moved
        raise ConcurrentUpdate(f"records under {location} kept changing while they were moved; run it again")

    def _move_round(
        self, location: str, finish: Callable[[int], list[Write]] | None, moved: list[str]
    ) -> bool:
        """One round: plan where each record under location belongs, move those that belong elsewhere in
        batches (each conditional on the graph version the plan was made at), `finish(n)` riding in the
        last batch. Appends what moved to `moved`; False when a batch lost a race (plan again)."""
        version = self.read_graph_version()
        records = self.read_partition(location).records
        lookup = self._alias_lookup(self.read_aliases(record.home_id for record in records))
        plan = [MoveRecord(record, location, self._chain(record.home_id, lookup)[-1]) for record in records]
        plan = [move for move in plan if move.destination != location]
        size = self.records_per_transaction or max(1, len(plan))
        batches = [plan[start : start + size] for start in range(0, len(plan), size)] or [[]]
        for number, batch in enumerate(batches):
            writes: list[Write] = [*batch]
            if number == len(batches) - 1 and finish is not None:
                writes += finish(len(batch))
            if writes:
                try:
                    self.commit([CheckGraph(version), *writes] if batch else writes)
                except ConditionFailed:
                    return False
            moved.extend(move.record.source_record for move in batch)
        return True

    # -- reads --------------------------------------------------------------------------------------
    def show(self, ticket_id: str, include_deleted: bool = False) -> TicketView:
        """All records under the ticket (following aliases); TicketNotFound when nothing is known."""
        requested = parse_ticket_id(ticket_id)
        with self.snapshot():
            partition = self.read_partition(requested)
            chain, audit = [requested], list(partition.audit)
            while (
                partition.alias is not None
                and partition.alias.active
                and partition.alias.target_id not in chain
                and len(chain) <= rules.MAX_CHAIN
            ):
                chain.append(partition.alias.target_id)
                partition = self.read_partition(chain[-1])
            if len(chain) > 1:
                audit += partition.audit
            in_flight = self._on_their_way(partition)
            records = {record.source_record: record for record in partition.records}
            if in_flight:
                # Each one may have arrived after this partition was read: read it again, its copy wins.
                records = {record.source_record: record for record in in_flight}
                records.update((r.source_record, r) for r in self.read_partition(partition.ticket_id).records)
        view_audit = rules.unique_audit(audit)
        moving = bool(partition.incoming) or (partition.alias is not None and not partition.alias.active)
        return rules.build_view(
            requested, tuple(chain), records.values(), view_audit, include_deleted, moving
        )

    def _on_their_way(self, partition: Partition) -> list[BugRecord]:
        """Records that belong under the partition's id but a link or unlink has not moved there yet, where
        they are now: everything under a source still linking in, and under an unlinking alias's target
        what resolves back here."""
        found = [record for source in partition.incoming for record in self.read_partition(source).records]
        alias = partition.alias
        if alias is not None and not alias.active:
            lookup = self._alias_lookup()
            elsewhere = self.read_partition(self._chain(alias.target_id, lookup)[-1]).records
            lookup = self._alias_lookup(self.read_aliases(record.home_id for record in elsewhere))
            found += [r for r in elsewhere if self._chain(r.home_id, lookup)[-1] == partition.ticket_id]
        return found

    # -- the seed's calls, for scripts and notebooks ---------------------------------------------------
    def get_bug_by_ticket_id(self, ticket_id: str, include_deleted: bool = False) -> TicketView:
        """Every record under one ticket id (aliases followed), like `bugtracker show`."""
        return self.show(ticket_id, include_deleted=include_deleted)

    def get_bugs_by_priority(self, priority: str, **dates: str) -> Iterator[BugRecord]:
        """Every live record of that priority (`High`, or a synonym: `p1`, `urgent`), newest first,
        read a page at a time as you iterate; `since=` / `until=` limit the created dates."""
        return self._every(priority=normalize_priority(priority) or priority, **dates)

    def get_bugs_by_state(self, state: str, **dates: str) -> Iterator[BugRecord]:
        """Every live record in that state (the source's own name, e.g. `Ready for QA`, `open`)."""
        return self._every(state=state, **dates)

    def get_bugs_by_source(self, source: str, **dates: str) -> Iterator[BugRecord]:
        """Every live record from `slack`, `zendesk` or `shortcut`."""
        return self._every(source=source.strip().lower(), **dates)

    def _every(self, **filters: str) -> Iterator[BugRecord]:
        # refuse a bad filter now, not at the first next()
        rules.check_list_filters(filters.get("priority"), filters.get("state"), filters.get("source"), 1)
        return self._pages(filters)

    def _pages(self, filters: dict[str, str]) -> Iterator[BugRecord]:
        cursor = None
        while True:
            page = self.list_records(**filters, limit=SCRIPT_PAGE, cursor=cursor)
            yield from page.records
            cursor = page.next_cursor
            if cursor is None:
                return

    # -- one-off migrations ---------------------------------------------------------------------------
    def canonicalize_ids(self, actor: str = "migration") -> list[tuple[str, str, int]]:
        """Move records stored under a non-canonical id (`ZD-0042`, written before ids were canonicalised)
        under the canonical one (`ZD-42`): a link of the old id to the new, so aliases that named the old
        id keep resolving. Returns (old id, canonical id, records moved) for each; idempotent."""
        done = []
        for stored_id in sorted(self.ticket_ids_in_use()):
            if is_canonical_ticket_id(stored_id):
                continue
            try:
                canonical = parse_ticket_id(stored_id)
            except InvalidTicketId:
                continue  # not an id at all: nothing we would ever look up
            with self.transaction():
                result = self._link(stored_id, canonical, actor)
            done.append((stored_id, canonical, len(result.moved)))
        return done

    # -- leases ---------------------------------------------------------------------------------------
    def acquire_lease(
        self, name: str, owner: str, ttl_seconds: float, *, take_over: str | None = None
    ) -> bool:
        """Take or renew the lease `name` for owner; False when another owner holds an unexpired one.
        `take_over`: a holder known to be dead (its process is gone) whose lease may be taken at once."""
        with self.transaction():
            for _ in range(MAX_TRIES):
                now = self.clock()
                held = self.read_lease(name)
                if not rules.lease_takeable(held, owner, now, take_over):
                    return False
                try:
                    self.commit([PutLease(Lease(name, owner, now + ttl_seconds), held)])
                except ConditionFailed:
                    continue  # taken, renewed or released meanwhile: look again
                return True
        return False

    def lease_holder(self, name: str) -> Lease | None:
        """Who holds the lease `name` and until when (None: nobody, or an expired lease)."""
        held = self.read_lease(name)
        return held if held is not None and held.expires_at > self.clock() else None

    def claim(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Claim the one-time action `name` (e.g. posting one answer) for owner: True for exactly one caller
        until the claim expires, whoever asks, the same owner included. One conditional write when the
        name is free (the usual case); a claim past its expiry is taken over. Kept beside the leases."""
        now = self.clock()
        claim = Lease(name, owner, now + ttl_seconds)
        with self.transaction():
            try:
                self.commit([PutLease(claim, None)])
                return True
            except ConditionFailed:
                pass
            for _ in range(MAX_TRIES):
                held = self.read_lease(name)
                if held is not None and held.expires_at > now:
                    return False
                try:
                    self.commit([PutLease(claim, held)])
                    return True
                except ConditionFailed:
                    continue
        return False

    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease up if owner holds it."""
        with self.transaction():
            held = self.read_lease(name)
            if held is None or held.owner != owner:
                return
            try:
                self.commit([RemoveLease(held)])
            except ConditionFailed:
                pass  # someone else took it meanwhile (ours had expired): nothing of ours to give up


def _audit(ticket_ids: tuple[str, ...], entry: AuditEntry) -> WriteAudit:
    """The event is kept under each id it touched (once when they are the same)."""
    return WriteAudit(tuple(sorted(set(ticket_ids))), entry, f"{entry.at}#{uuid.uuid4().hex[:12]}")


def _reported(records: Iterator[BugRecord], advance: Callable[[int], None] | None) -> Iterator[BugRecord]:
    """The records as they are read, telling advance() every few hundred (a bar needs no more)."""
    if advance is None:
        yield from records
        return
    pending = 0
    for record in records:
        yield record
        pending += 1
        if pending == 500:
            advance(pending)
            pending = 0
    if pending:
        advance(pending)
