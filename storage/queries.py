"""Reads, written once above the port: a ticket with everything under it (`show`), the calls scripts and
notebooks use (`get_bug_by_ticket_id`, `get_bugs_by_priority|state|source`), and the index queries the port
answers from its indexes (lists, counts, meta)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from storage import rules
from storage.core import StoreCore
from storage.model import BugRecord, normalize_priority, parse_ticket_id
from storage.primitives import Partition
from storage.values import Counts, Page, TicketView

SCRIPT_PAGE = 200  # page size of the get_bugs_by_* generators


class Queries(StoreCore):
    # -- reads --------------------------------------------------------------------------------------
    def show(self, ticket_id: str, include_deleted: bool = False) -> TicketView:
        """All records under the ticket (following aliases); TicketNotFound when nothing is known."""
        requested = parse_ticket_id(ticket_id)
        with self.port.snapshot():
            partition = self.port.read_partition(requested)
            chain, audit = [requested], list(partition.audit)
            while (
                partition.alias is not None
                and partition.alias.active
                and partition.alias.target_id not in chain
                and len(chain) <= rules.MAX_CHAIN
            ):
                chain.append(partition.alias.target_id)
                partition = self.port.read_partition(chain[-1])
            if len(chain) > 1:
                audit += partition.audit
            in_flight = self._on_their_way(partition)
            records = {record.source_record: record for record in partition.records}
            if in_flight:
                # Each one may have arrived after this partition was read: read it again, its copy wins.
                records = {record.source_record: record for record in in_flight}
                records.update(
                    (r.source_record, r) for r in self.port.read_partition(partition.ticket_id).records
                )
        view_audit = rules.unique_audit(audit)
        moving = bool(partition.incoming) or (partition.alias is not None and not partition.alias.active)
        return rules.build_view(
            requested, tuple(chain), records.values(), view_audit, include_deleted, moving
        )

    def _on_their_way(self, partition: Partition) -> list[BugRecord]:
        """Records that belong under the partition's id but a link or unlink has not moved there yet, where
        they are now: everything under a source still linking in, and under an unlinking alias's target
        what resolves back here."""
        found = [
            record for source in partition.incoming for record in self.port.read_partition(source).records
        ]
        alias = partition.alias
        if alias is not None and not alias.active:
            lookup = self._alias_lookup()
            elsewhere = self.port.read_partition(self._chain(alias.target_id, lookup)[-1]).records
            lookup = self._alias_lookup(self.port.read_aliases(record.home_id for record in elsewhere))
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

    # -- the port's index queries -------------------------------------------------------------------
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
        """Newest first, by created time; the filters given combine (AND) (storage/port.py)."""
        return self.port.list_records(
            priority=priority,
            state=state,
            source=source,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )

    def unlinked_slack(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        """Slack reports still under their own SL- id, newest first."""
        return self.port.unlinked_slack(limit=limit, cursor=cursor)

    def counts(self) -> Counts:
        """Counts by priority, state, state type and source, from the counters."""
        return self.port.counts()

    def new_per_day(self, since: str, until: str) -> dict[str, dict[str, int]]:
        """{source: {"YYYY-MM-DD": n}}: live records created on each UTC day from since's day to until's."""
        return self.port.new_per_day(since, until)

    def get_meta(self, key: str) -> dict[str, Any] | None:
        """A small JSON-able value saved under key (sync cursors, watermarks)."""
        return self.port.get_meta(key)

    def put_meta(self, key: str, value: dict[str, Any]) -> None:
        self.port.put_meta(key, value)

    def add_meta(self, key: str, value: dict[str, Any]) -> bool:
        """Save value under key unless something is saved there already (one conditional write)."""
        return self.port.add_meta(key, value)

    def read_list(self, name: str, limit: int) -> list[str]:
        """The newest `limit` members of a list kept by AddToList writes (e.g. with try_insert)."""
        return self.port.read_list(name, limit)
