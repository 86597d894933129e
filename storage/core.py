"""The placement rule, written once above the port (storage/port.py): where a record lives, and moving the
records that live somewhere else.

A record lives under `resolve(record.home_id)`, where `resolve` follows the active aliases written by `link`
(SL-1 -> ZD-5 -> ZD-7 resolves to ZD-7). Moves go in batches (`records_per_transaction`), each batch
conditional on the records being as read and on the alias-graph version; a batch that loses a race is
planned again from fresh reads (docs/design.md).

Every operation above reaches the port through the three methods of StoreCore marked "the funnel":
`transaction`, `_commit` and `_put_new`. A wrapper that needs to see the writes (storage/observed.py)
overrides those and nothing else.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from storage import impact, rules
from storage.errors import ConcurrentUpdate, ConditionFailed
from storage.impact import Impact
from storage.model import BugRecord, parse_ticket_id
from storage.port import StorePort
from storage.primitives import Alias, CheckGraph, InsertRecord, MoveRecord, PutImpact, Write, WriteAudit
from storage.values import AuditEntry

MAX_TRIES = 8  # an operation that keeps losing races gives up with ConcurrentUpdate after this many
MAX_MOVE_ROUNDS = 32  # rounds of planning and moving one partition's records before giving up

Clock = Callable[[], float]


class StoreCore:
    """The port and the clock, the funnel to the port's writes, and the placement rule."""

    def __init__(self, port: StorePort, *, clock: Clock = time.time) -> None:
        self.port = port
        self.clock = clock  # epoch seconds, for leases and claims

    @property
    def description(self) -> str:
        return self.port.description

    # -- the funnel: every operation reaches the port's writes through these ---------------------------
    def transaction(self) -> AbstractContextManager[Any]:
        """Around one whole operation (storage/port.py)."""
        return self.port.transaction()

    def _commit(self, writes: list[Write], *, new_home: bool = False) -> None:
        """The writes and, in the same commit, the impact tallies (storage/impact.py) of every ticket id
        their records touch, conditional on the tallies read. new_home: a new record inserted at its own
        home id, whose tally is assumed absent (no read; when one exists the condition fails and the
        caller's retry takes the reading path)."""
        found = impact.changes(writes)
        if not found:
            self.port.commit(writes)
            return
        stored = dict.fromkeys(found) if new_home else self.port.read_impacts(sorted(found))
        self.port.commit([*writes, *impact_writes(found, stored)])

    def _put_new(self, records: Sequence[BugRecord]) -> None:
        """New records written together (no conditions on DynamoDB), then their tallies: those of homes that
        had none written together too, the others one conditional write per ticket id. A process killed in
        between leaves the tallies behind until the recount."""
        self.port.put_new_records(records)
        found = impact.changes([InsertRecord(record, record.home_id, ()) for record in records])
        if not found:
            return
        stored = self.port.read_impacts(sorted(found))
        fresh = [tally for ticket_id in sorted(found) if stored.get(ticket_id) is None
                 if (tally := impact.apply(ticket_id, None, found[ticket_id])) is not None]  # fmt: skip
        self.port.put_new_impacts(fresh)
        self._adjust_impacts(
            [InsertRecord(record, record.home_id, ()) for record in records if stored.get(record.home_id)]
        )

    def _adjust_impacts(self, writes: list[Write]) -> None:
        pending = impact.changes(writes)
        for _ in range(MAX_TRIES):
            if not pending:
                return
            stored = self.port.read_impacts(sorted(pending))
            for ticket_id in sorted(pending):
                try:
                    self.port.commit(impact_writes({ticket_id: pending[ticket_id]}, stored))
                except ConditionFailed:
                    continue  # written meanwhile: read it again
                del pending[ticket_id]
        raise ConcurrentUpdate(f"the impact of {', '.join(sorted(pending))} kept changing; run recount")

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
                known[ticket_id]
                if known is not None and ticket_id in known
                else self.port.read_alias(ticket_id)
            )
            return alias.target_id if alias is not None and alias.active else None

        return target_of

    def get_record(self, source_system: str, record_id: str) -> BugRecord | None:
        """The stored copy of one source record, wherever it lives now (deleted ones included)."""
        for _ in range(MAX_TRIES):
            try:
                return self.port.read_record(source_system, record_id)
            except ConditionFailed:
                continue  # moved between two reads: read again
        raise ConcurrentUpdate(f"{source_system}#{record_id} kept moving while we read it; try again")

    def get_records(self, source_system: str, record_ids: Sequence[str]) -> dict[str, BugRecord | None]:
        """The stored copy (or None) of many records of one source, by record id, in batched reads (a
        sweep's check of a channel's history)."""
        probes = [BugRecord(source_system, record_id, "", "") for record_id in dict.fromkeys(record_ids)]
        found = self.port.read_records(probes)
        return {
            probe.record_id: found[probe.source_record]
            if probe.source_record in found
            else self.get_record(source_system, probe.record_id)  # it moved while read: read it alone
            for probe in probes
        }

    def ticket_ids_in_use(self) -> set[str]:
        """Every ticket id some record lives under (deleted ones included)."""
        return self.port.ticket_ids_in_use()

    # -- moving records to where they resolve ------------------------------------------------------
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
        version = self.port.read_graph_version()
        records = self.port.read_partition(location).records
        lookup = self._alias_lookup(self.port.read_aliases(record.home_id for record in records))
        plan = [MoveRecord(record, location, self._chain(record.home_id, lookup)[-1]) for record in records]
        plan = [move for move in plan if move.destination != location]
        size = self.port.records_per_transaction or max(1, len(plan))
        batches = [plan[start : start + size] for start in range(0, len(plan), size)] or [[]]
        for number, batch in enumerate(batches):
            writes: list[Write] = [*batch]
            if number == len(batches) - 1 and finish is not None:
                writes += finish(len(batch))
            if writes:
                try:
                    self._commit([CheckGraph(version), *writes] if batch else writes)
                except ConditionFailed:
                    return False
            moved.extend(move.record.source_record for move in batch)
        return True


def impact_writes(found: dict[str, impact.Change], stored: dict[str, Impact | None]) -> list[Write]:
    """One PutImpact per ticket id whose tally changes (conditional on the revision read)."""
    writes: list[Write] = []
    for ticket_id, change in sorted(found.items()):
        before = stored.get(ticket_id)
        after = impact.apply(ticket_id, before, change)
        if before is None and after is None:
            continue
        writes.append(PutImpact(ticket_id, after, before.revision if before is not None else None))
    return writes


def audit(ticket_ids: tuple[str, ...], entry: AuditEntry) -> WriteAudit:
    """The event is kept under each id it touched (once when they are the same)."""
    return WriteAudit(tuple(sorted(set(ticket_ids))), entry, f"{entry.at}#{uuid.uuid4().hex[:12]}")
