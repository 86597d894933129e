"""Upserts, written once above the port: newer-wins, idempotent writes of source records where they belong.

`upsert` writes one record under resolve(record.home_id), or wherever it already lives; `upsert_many` does the
same for a batch with batched reads, new records written together (storage/port.py `put_new_records`), and
a look for links that raced those writes; `erase` overwrites what a source deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from storage import rules
from storage.core import MAX_TRIES, StoreCore
from storage.errors import ConcurrentUpdate, ConditionFailed
from storage.model import BugRecord
from storage.primitives import InsertRecord, ReplaceRecord, Write
from storage.values import UpsertOutcome, UpsertResult

UNREAD = object()  # upsert(seen=...) not given: the stored copy is read first


class Upserts(StoreCore):
    def upsert(
        self, record: BugRecord, *, seen: BugRecord | None | object = UNREAD, also: Sequence[Write] = ()
    ) -> UpsertResult:
        """Newer-wins, idempotent write under resolve(record.home_id) (or wherever it already lives).

        `seen`: the stored copy the caller has just read (None: not stored), which saves reading it again;
        the writes are conditional on it, so a copy that changed meanwhile is read again and retried. A
        record not stored is first tried at its home with no alias read (the insert's condition checks
        that home has no active alias): one request for a new record, whose home is rarely linked.
        `also`: derived data written in the same commit when the record is inserted (as try_insert's)."""
        with self.transaction():
            for attempt in range(MAX_TRIES):
                try:
                    if attempt == 0 and seen is not UNREAD:
                        stored = seen if isinstance(seen, BugRecord) else None
                        if stored is None:
                            home = record.home_id
                            self._commit([InsertRecord(record, home, (home,)), *also], new_home=True)
                            return UpsertResult(UpsertOutcome.INSERTED, home)
                    else:
                        stored = self.port.read_record(record.source_system, record.record_id)
                    if stored is None:
                        chain = self._chain(record.home_id)
                        self._commit([InsertRecord(record, chain[-1], chain), *also])
                        return UpsertResult(UpsertOutcome.INSERTED, chain[-1])
                    return self._update_stored(record, stored)
                except ConditionFailed:
                    continue  # another writer or a link moved it meanwhile: read again
        raise ConcurrentUpdate(f"{record.source_record} kept changing while we wrote it; try again")

    def try_insert(
        self, record: BugRecord, also: Sequence[Write] = ()
    ) -> tuple[UpsertResult | None, BugRecord | None]:
        """One conditional write, no read first, for a record most likely new (a report just posted): the
        record inserted at its home, with `also` (derived data kept with it, e.g. AddToList) in the same
        commit. Returns (the INSERTED result, None); or, when the insert is refused, (None, the stored copy
        the refusal returned): a record stored already costs the refused write and no read, where the store
        can say (both do when the record lives at its home). (None, None): refused for another reason (its
        home is linked, it moved): read it (get_record) and take the careful path."""
        home = record.home_id
        with self.transaction():
            try:
                self._commit([InsertRecord(record, home, (home,)), *also], new_home=True)
            except ConditionFailed as refused:
                found = [stored for stored in refused.found if stored.source_record == record.source_record]
                return None, (found[0] if found else None)
        return UpsertResult(UpsertOutcome.INSERTED, home), None

    def _update_stored(self, record: BugRecord, stored: BugRecord) -> UpsertResult:
        """The newer-wins write of record over the copy read (ConditionFailed if it changed since)."""
        outcome = rules.compare(stored, record)
        if outcome is UpsertOutcome.UPDATED:
            self._commit([ReplaceRecord(record, stored)])
        return UpsertResult(outcome, stored.location)

    def erase(self, stored: BugRecord, kept: BugRecord) -> bool:
        """Replace the copy read (`stored`) with `kept`, whatever their versions: what a source deleted is
        erased, not compared. False when the copy changed meanwhile (read it again and retry)."""
        with self.transaction():
            try:
                self._commit([ReplaceRecord(replace(kept, ticket_id=None), stored)])
            except ConditionFailed:
                return False
        self.port.after_erase()  # SQLite: the WAL that still held the words is emptied
        return True

    def upsert_many(self, records: Iterable[BugRecord]) -> list[UpsertResult]:
        """Same semantics as upsert for each record, in order. The stored copies are read in one batch (an
        unchanged record costs its read and no write); new records whose home has no alias are written
        together; updates, aliased homes and records that moved while read take upsert's careful path."""
        records = list(records)
        results: list[UpsertResult | None] = [None] * len(records)
        first_seen: dict[str, int] = {}
        repeats = []
        for position, record in enumerate(records):
            if record.source_record in first_seen:
                repeats.append(position)  # the same record twice in one batch: in order, one at a time
            else:
                first_seen[record.source_record] = position
        with self.transaction():
            stored = self.port.read_records([records[p] for p in first_seen.values()])
            missing = [p for p in first_seen.values() if stored.get(records[p].source_record, UNREAD) is None]
            aliases = self.port.read_aliases(records[p].home_id for p in missing)
            fresh = []
            for position in first_seen.values():
                record = records[position]
                if record.source_record not in stored:
                    results[position] = self.upsert(record)  # moved while we read: the careful path
                elif (copy := stored[record.source_record]) is None:
                    if aliases.get(record.home_id) is not None:
                        results[position] = self.upsert(record)
                    else:
                        fresh.append(position)
                else:
                    try:
                        results[position] = self._update_stored(record, copy)
                    except ConditionFailed:
                        results[position] = self.upsert(record)
            if fresh:
                self._put_new([records[p] for p in fresh])
                for position in fresh:
                    results[position] = UpsertResult(UpsertOutcome.INSERTED, records[position].home_id)
                self._rehome_late_links([records[p] for p in fresh], results, fresh)
            for position in repeats:
                results[position] = self.upsert(records[position])
        return [result for result in results if result is not None]

    def _rehome_late_links(
        self, written: list[BugRecord], results: list[UpsertResult | None], positions: list[int]
    ) -> None:
        """A store may write new records without conditions, so a link of a new record's home id that
        started after our read and queried before our write would leave the record behind. Links write
        their alias before they read, so any such link is visible now: move what it left behind."""
        late = self.port.read_aliases(record.home_id for record in written)
        for record, position in zip(written, positions, strict=True):
            if late.get(record.home_id) is not None:
                self._settle(record.home_id)
                results[position] = UpsertResult(UpsertOutcome.INSERTED, self.resolve(record.home_id)[-1])
