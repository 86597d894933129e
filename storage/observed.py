"""A BugStore that tells an observer about every record it writes or moves: the hook that keeps in-memory
views (the suggestion index, bot/suggest/) current without reading the table again.

`ObservedStore(store, observer)` delegates every method to `store`; after a write that changed something
(INSERTED / UPDATED), and after a link or unlink (the moved records, read back), it calls
`observer(records)` with the records as stored (`ticket_id` = where each lives now). An observer that fails
is logged and never fails the write: the record is stored either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from storage.model import BugRecord
from storage.primitives import Alias, Lease, Partition, Write
from storage.store import UNREAD, BugStore
from storage.values import Counts, LinkResult, Page, TicketView, UpsertOutcome, UpsertResult

log = logging.getLogger(__name__)

Observer = Callable[[list[BugRecord]], None]
CHANGED = (UpsertOutcome.INSERTED, UpsertOutcome.UPDATED)


class ObservedStore(BugStore):
    def __init__(self, store: BugStore, observer: Observer) -> None:
        self.inner = store
        self.observer = observer
        self.description = store.description

    def _tell(self, records: list[BugRecord]) -> None:
        if not records:
            return
        try:
            self.observer(records)
        except Exception:  # a view that cannot follow must not lose a write
            log.exception("store observer failed on %d record(s)", len(records))

    def _moved(self, result: LinkResult) -> None:
        records = []
        for source_record in result.moved:
            source_system, record_id = source_record.split("#", 1)
            stored = self.inner.get_record(source_system, record_id)
            if stored is not None:
                records.append(stored)
        self._tell(records)

    # -- writes, observed ----------------------------------------------------------------------
    def upsert(self, record: BugRecord, *, seen: BugRecord | None | object = UNREAD) -> UpsertResult:
        result = self.inner.upsert(record, seen=seen)
        if result.outcome in CHANGED:
            self._tell([replace(record, ticket_id=result.ticket_id)])
        return result

    def erase(self, stored: BugRecord, kept: BugRecord) -> bool:
        erased = self.inner.erase(stored, kept)
        if erased:
            self._tell([replace(kept, ticket_id=stored.location)])
        return erased

    def upsert_many(self, records: Iterable[BugRecord]) -> list[UpsertResult]:
        records = list(records)
        results = self.inner.upsert_many(records)
        self._tell(
            [
                replace(record, ticket_id=result.ticket_id)
                for record, result in zip(records, results, strict=True)
                if result.outcome in CHANGED
            ]
        )
        return results

    def upsert_linked(self, record: BugRecord, target_id: str, actor: str) -> tuple[UpsertResult, LinkResult]:
        try:
            result, link = self.inner.upsert_linked(record, target_id, actor)
        except Exception:
            stored = self.inner.get_record(record.source_system, record.record_id)  # stored even if refused
            if stored is not None:
                self._tell([stored])
            raise
        self._tell([replace(record, ticket_id=result.ticket_id)])
        return result, link

    def link(self, source_id: str, target_id: str, actor: str) -> LinkResult:
        result = self.inner.link(source_id, target_id, actor)
        self._moved(result)
        return result

    def unlink(self, ticket_id: str, actor: str) -> LinkResult:
        result = self.inner.unlink(ticket_id, actor)
        self._moved(result)
        return result

    # -- everything else, delegated ------------------------------------------------------------
    # The primitives: the port's shared semantics run on the inner store (its methods above are called).
    def transaction(self) -> AbstractContextManager[Any]:
        return self.inner.transaction()

    def snapshot(self) -> AbstractContextManager[Any]:
        return self.inner.snapshot()

    def read_partition(self, ticket_id: str) -> Partition:
        return self.inner.read_partition(ticket_id)

    def read_alias(self, ticket_id: str) -> Alias | None:
        return self.inner.read_alias(ticket_id)

    def read_aliases(self, ticket_ids: Iterable[str]) -> dict[str, Alias | None]:
        return self.inner.read_aliases(ticket_ids)

    def read_record(self, source_system: str, record_id: str) -> BugRecord | None:
        return self.inner.read_record(source_system, record_id)

    def read_graph_version(self) -> int:
        return self.inner.read_graph_version()

    def read_lease(self, name: str) -> Lease | None:
        return self.inner.read_lease(name)

    def commit(self, writes: list[Write]) -> None:
        self.inner.commit(writes)

    def init(self) -> None:
        self.inner.init()

    def check(self) -> None:
        self.inner.check()

    def get_record(self, source_system: str, record_id: str) -> BugRecord | None:
        return self.inner.get_record(source_system, record_id)

    def resolve(self, ticket_id: str) -> tuple[str, ...]:
        return self.inner.resolve(ticket_id)

    def show(self, ticket_id: str, include_deleted: bool = False) -> TicketView:
        return self.inner.show(ticket_id, include_deleted=include_deleted)

    def get_bug_by_ticket_id(self, ticket_id: str, include_deleted: bool = False) -> TicketView:
        return self.inner.get_bug_by_ticket_id(ticket_id, include_deleted=include_deleted)

    def get_bugs_by_priority(self, priority: str, **dates: str) -> Iterator[BugRecord]:
        return self.inner.get_bugs_by_priority(priority, **dates)

    def get_bugs_by_state(self, state: str, **dates: str) -> Iterator[BugRecord]:
        return self.inner.get_bugs_by_state(state, **dates)

    def get_bugs_by_source(self, source: str, **dates: str) -> Iterator[BugRecord]:
        return self.inner.get_bugs_by_source(source, **dates)

    def list_records(self, **filters: Any) -> Page:
        return self.inner.list_records(**filters)

    def unlinked_slack(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        return self.inner.unlinked_slack(limit=limit, cursor=cursor)

    def counts(self) -> Counts:
        return self.inner.counts()

    def new_per_day(self, since: str, until: str) -> dict[str, dict[str, int]]:
        return self.inner.new_per_day(since, until)

    def read_counters(self) -> dict[str, int]:
        return self.inner.read_counters()

    def scan_records(self) -> Iterator[BugRecord]:
        return self.inner.scan_records()

    def adjust_counters(self, change: dict[str, int]) -> None:
        self.inner.adjust_counters(change)

    def recount(self, advance: Callable[[int], None] | None = None) -> dict[str, int]:
        return self.inner.recount(advance)

    def migrate(
        self,
        progress: Callable[[str], None] = print,
        manage_indexes: bool = False,
        advance: Callable[[int], None] | None = None,
    ) -> None:
        self.inner.migrate(progress, manage_indexes, advance)

    def get_meta(self, key: str) -> dict[str, Any] | None:
        return self.inner.get_meta(key)

    def ticket_ids_in_use(self) -> set[str]:
        return self.inner.ticket_ids_in_use()

    def canonicalize_ids(self, actor: str = "migration") -> list[tuple[str, str, int]]:
        moved = self.inner.canonicalize_ids(actor)
        for _old, canonical, _count in moved:  # the moved records now live under the canonical id
            self._tell(list(self.inner.show(canonical).records))
        return moved

    def put_meta(self, key: str, value: dict[str, Any]) -> None:
        self.inner.put_meta(key, value)

    def acquire_lease(
        self, name: str, owner: str, ttl_seconds: float, *, take_over: str | None = None
    ) -> bool:
        return self.inner.acquire_lease(name, owner, ttl_seconds, take_over=take_over)

    def lease_holder(self, name: str) -> Lease | None:
        return self.inner.lease_holder(name)

    def release_lease(self, name: str, owner: str) -> None:
        self.inner.release_lease(name, owner)

    def claim(self, name: str, owner: str, ttl_seconds: float) -> bool:
        return self.inner.claim(name, owner, ttl_seconds)

    def __getattr__(self, name: str) -> Any:  # an implementation's extras (SqliteStore.close, ...)
        return getattr(self.inner, name)
