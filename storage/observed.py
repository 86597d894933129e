"""A BugStore that tells an observer about every record it writes or moves: the hook that keeps in-memory
views (the suggestion index, bot/suggest/) current without reading the table again.

`ObservedStore(store, observer)` runs the same semantics over the same port and wraps only the funnel through
which they write (storage/core.py): each commit's records, as stored (`ticket_id` = where each lives now:
inserted, replaced, moved by a link or unlink), are told to `observer(records)` once the operation is over
(on SQLite, once its one transaction is committed; a rolled back one tells nothing). An observer that fails
is logged and never fails the write: the record is stored either way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any

from storage.model import BugRecord
from storage.primitives import InsertRecord, MoveRecord, ReplaceRecord, Write
from storage.store import BugStore

log = logging.getLogger(__name__)

Observer = Callable[[list[BugRecord]], None]


class ObservedStore(BugStore):
    def __init__(self, store: BugStore, observer: Observer, linked: Observer | None = None) -> None:
        """`linked`: told of the records that came to live under another ticket id than their own in a
        commit (a link moved them there, or a tagged report was stored there), right after it."""
        super().__init__(store.port, clock=store.clock)
        self.observer = observer
        self.linked = linked
        self._operation = threading.local()  # per thread: how deep in operations, what they wrote

    # -- the funnel, observed ------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[Any]:
        return self._observed_operation()

    @contextmanager
    def _observed_operation(self) -> Iterator[None]:
        state = self._operation
        depth = getattr(state, "depth", 0)
        if depth == 0:
            state.written, state.arrived = [], []
        state.depth = depth + 1
        completed = False
        try:
            with self.port.transaction():
                yield
            completed = True
        finally:
            state.depth = depth
            if depth == 0:
                written, state.written = state.written, []
                arrived, state.arrived = state.arrived, []
                if completed or not self.port.operation_is_atomic:  # a rolled back operation wrote nothing
                    self._tell(list({record.source_record: record for record in written}.values()))
                    self._tell_linked(arrived)

    def _commit(self, writes: list[Write], *, new_home: bool = False) -> None:
        super()._commit(writes, new_home=new_home)  # the records and their impact tallies
        if self.linked is not None:
            arrived = [stored for write in writes if (stored := _linked_now(write)) is not None]
            if getattr(self._operation, "depth", 0):
                self._operation.arrived.extend(arrived)
            else:
                self._tell_linked(arrived)
        self._wrote([stored for write in writes if (stored := _as_stored(write)) is not None])

    def _put_new(self, records: Sequence[BugRecord]) -> None:
        super()._put_new(records)
        self._wrote([replace(record, ticket_id=record.home_id) for record in records])

    def _wrote(self, records: list[BugRecord]) -> None:
        if getattr(self._operation, "depth", 0):
            self._operation.written.extend(records)
        else:
            self._tell(records)

    def _tell_linked(self, records: list[BugRecord]) -> None:
        if not records or self.linked is None:
            return
        try:
            self.linked(records)
        except Exception:  # a flow metric must not lose a write
            log.exception("link observer failed on %d record(s)", len(records))

    def _tell(self, records: list[BugRecord]) -> None:
        if not records:
            return
        try:
            self.observer(records)
        except Exception:  # a view that cannot follow must not lose a write
            log.exception("store observer failed on %d record(s)", len(records))


def _linked_now(write: Write) -> BugRecord | None:
    """A record this write moves from its own id to another (a link), or stores away from it (tagged)."""
    match write:
        case InsertRecord(record=record, location=location) if location != record.home_id:
            return replace(record, ticket_id=location)
        case MoveRecord(record=record, source=source, destination=destination) if (
            source == record.home_id and destination != record.home_id
        ):
            return replace(record, ticket_id=destination)
    return None


def _as_stored(write: Write) -> BugRecord | None:
    """The record a write leaves stored, with ticket_id = where it lives (None: not a record's write)."""
    match write:
        case InsertRecord(record=record, location=location):
            return replace(record, ticket_id=location)
        case ReplaceRecord(record=record, seen=seen):
            return replace(record, ticket_id=seen.location)
        case MoveRecord(record=record, destination=destination):
            return replace(record, ticket_id=destination)
    return None
