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
    def __init__(self, store: BugStore, observer: Observer) -> None:
        super().__init__(store.port, clock=store.clock)
        self.observer = observer
        self._operation = threading.local()  # per thread: how deep in operations, what they wrote

    # -- the funnel, observed ------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[Any]:
        return self._observed_operation()

    @contextmanager
    def _observed_operation(self) -> Iterator[None]:
        state = self._operation
        depth = getattr(state, "depth", 0)
        if depth == 0:
            state.written = []
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
                if completed or not self.port.operation_is_atomic:  # a rolled back operation wrote nothing
                    self._tell(list({record.source_record: record for record in written}.values()))

    def _commit(self, writes: list[Write], *, new_home: bool = False) -> None:
        super()._commit(writes, new_home=new_home)  # the records and their impact tallies
        self._wrote([stored for write in writes if (stored := _as_stored(write)) is not None])

    def _put_new(self, records: Sequence[BugRecord]) -> None:
        super()._put_new(records)
        self._wrote([replace(record, ticket_id=record.home_id) for record in records])

    def _wrote(self, records: list[BugRecord]) -> None:
        if getattr(self._operation, "depth", 0):
            self._operation.written.extend(records)
        else:
            self._tell(records)

    def _tell(self, records: list[BugRecord]) -> None:
        if not records:
            return
        try:
            self.observer(records)
        except Exception:  # a view that cannot follow must not lose a write
            log.exception("store observer failed on %d record(s)", len(records))


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
