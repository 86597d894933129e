"""Links and unlinks, written once above the port: one ticket id's records moved under another's, and back.

How a link keeps the placement rule (storage/core.py; docs/design.md):
1. its alias is written first (state moving), bumping the alias-graph version; new records follow it at once;
2. records move in batches (`records_per_transaction`), each batch conditional on the records being as read
   and on the graph version, the last batch also marking the alias linked and writing the audit entries;
3. a batch that loses a race is planned again from fresh reads; a killed link is finished by running it
   again (or by an unlink of the same id). Unlink mirrors it: the alias turns `unlinking` (no longer
   followed), records whose home now resolves elsewhere move back, the last batch removes the alias.
Conditional failures never escape: they are retried, then reported as ConcurrentUpdate (a BugTrackerError).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from storage import rules
from storage.core import MAX_MOVE_ROUNDS, MAX_TRIES, audit
from storage.errors import ConcurrentUpdate, ConditionFailed, InvalidTicketId, LinkRefused
from storage.model import BugRecord, is_canonical_ticket_id, now_timestamp, parse_ticket_id
from storage.primitives import (
    LINKED,
    MOVING,
    UNLINKING,
    AddAlias,
    Alias,
    BumpGraph,
    ChangeAlias,
    InsertRecord,
    Write,
)
from storage.upserts import Upserts
from storage.values import AuditEntry, LinkResult, UpsertOutcome, UpsertResult


class Linking(Upserts):
    """Built on upserts: a tagged report is upserted and linked in one operation."""

    def upsert_linked(
        self, record: BugRecord, target_id: str, actor: str, also: Sequence[Write] = ()
    ) -> tuple[UpsertResult, LinkResult]:
        """Upsert the record and link its home id to target_id (a Slack report tagged `ticketId=ZD-1`).

        A new record whose home id holds nothing is stored under the target from the start, atomically with
        its alias and audit entry. The record is stored even when the link is refused (LinkRefused is
        raised after the write). `also`: derived data kept when the record is new (as try_insert's)."""
        target_id = parse_ticket_id(target_id)
        refusal: LinkRefused | None = None
        with self.transaction():
            first = self._insert_linked(record, target_id, actor, also)
            if first is not None:
                return first
            result = self.upsert(record)
            if also and result.outcome is UpsertOutcome.INSERTED:
                self._commit([*also])
            try:
                link = self._link(record.home_id, target_id, actor)
            except LinkRefused as exc:
                refusal = exc
        if refusal is not None:
            raise refusal
        return UpsertResult(result.outcome, link.resolved_target), link

    def _insert_linked(
        self, record: BugRecord, target_id: str, actor: str, also: Sequence[Write] = ()
    ) -> tuple[UpsertResult, LinkResult] | None:
        """One commit for a new record whose home id has no alias and no records yet; None otherwise."""
        home = record.home_id
        if home == target_id:
            return None
        version = self.port.read_graph_version()
        at_home = self.port.read_partition(home)
        try:
            stored = self.port.read_record(record.source_system, record.record_id)
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
            self._commit(
                [
                    BumpGraph(version),
                    AddAlias(alias),
                    InsertRecord(record, destination, ()),  # the version guards the target's chain
                    audit((home, destination), entry),
                    *also,
                ]
            )
        except ConditionFailed:
            return None  # another writer got there first: the general path sorts it out
        if self.port.read_partition(home).records:
            self._settle(home)  # a record that resolved to home was inserted between our read and commit
        return UpsertResult(UpsertOutcome.INSERTED, destination), LinkResult(
            home, target_id, destination, (record.source_record,)
        )

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
            alias = self.port.read_alias(source_id)
            if alias is not None and alias.state == UNLINKING:
                self._finish_unlink(alias, alias.actor)  # a killed unlink: finish it first
                continue
            if alias is not None:
                rules.check_relink(source_id, target_id, alias.target_id)
                if alias.state == LINKED:
                    return LinkResult(source_id, target_id, self._chain(target_id)[-1], (), already=True)
                return self._finish_link(alias)
            version = self.port.read_graph_version()
            chain = self._chain(target_id)
            rules.check_link(source_id, target_id, chain, bool(self.port.read_partition(source_id).records))
            alias = Alias(source_id, target_id, MOVING, actor, now_timestamp(), chain[-1])
            try:
                self._commit([BumpGraph(version), AddAlias(alias)])
            except ConditionFailed:
                continue  # an alias changed meanwhile: look again
            return self._finish_link(alias)
        raise ConcurrentUpdate(f"{source_id} and {target_id} kept changing; try the link again")

    def _finish_link(self, alias: Alias) -> LinkResult:
        """Move what is left under the source; the last batch marks the alias linked and writes the audit."""
        source, target = alias.source_id, alias.target_id
        moved: list[str] = []
        for number in range(MAX_MOVE_ROUNDS):
            current = (
                alias if number == 0 else self.port.read_alias(source)
            )  # the caller just read or wrote it
            if current is None or current.target_id != target or current.state == UNLINKING:
                raise ConcurrentUpdate(f"{source} was unlinked while it was being linked; run the link again")
            destination = self._chain(target)[-1]
            if current.state == LINKED:  # another run finished it
                return LinkResult(source, target, destination, tuple(moved))

            def finish(count: int, current: Alias = current, destination: str = destination) -> list[Write]:
                entry = AuditEntry("link", source, target, current.actor, now_timestamp(), len(moved) + count)
                return [ChangeAlias(current, LINKED), audit((source, destination), entry)]

            done = self._move_round(source, finish, moved)
            if done:
                return LinkResult(source, target, destination, tuple(moved))
        raise ConcurrentUpdate(f"records under {source} kept changing while they were moved; run it again")

    def unlink(self, ticket_id: str, actor: str) -> LinkResult:
        """Remove ticket_id's alias; records whose home now resolves elsewhere move back there."""
        ticket_id = parse_ticket_id(ticket_id)
        with self.transaction():
            for _ in range(MAX_TRIES):
                alias = self.port.read_alias(ticket_id)
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
                        self._commit(
                            [BumpGraph(self.port.read_graph_version()), ChangeAlias(alias, UNLINKING)]
                        )
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
            current = (
                alias if number == 0 else self.port.read_alias(source)
            )  # the caller just read or wrote it
            if current is None or current.state != UNLINKING or current.target_id != target:
                return None
            location = self._chain(target)[-1]

            def finish(count: int, current: Alias = current, location: str = location) -> list[Write]:
                entry = AuditEntry("unlink", source, target, actor, now_timestamp(), len(moved) + count)
                return [ChangeAlias(current, None), audit((source, location), entry)]

            if self._move_round(location, finish, moved):
                return LinkResult(source, target, location, tuple(moved))
        raise ConcurrentUpdate(f"records under {target} kept changing while they were moved; run it again")

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
