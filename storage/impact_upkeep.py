"""Impact per bug above the port: reading the tallies (following aliases), the ranked read, and rebuilding
them from the records (the impact part of the recount). The tallies are written by the funnel
(storage/core.py `_commit` / `_put_new`); what each holds is storage/impact.py."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from storage import impact
from storage.core import StoreCore
from storage.errors import ConditionFailed
from storage.impact import Impact
from storage.model import parse_ticket_id
from storage.primitives import PutImpact


class ImpactUpkeep(StoreCore):
    def get_impacts(self, ticket_ids: Iterable[str]) -> dict[str, Impact | None]:
        """The impact of each ticket id, following aliases to where its records live."""
        wanted = [parse_ticket_id(ticket_id) for ticket_id in ticket_ids]
        lookup = self._alias_lookup()
        where = {ticket_id: self._chain(ticket_id, lookup)[-1] for ticket_id in wanted}
        stored = self.port.read_impacts(sorted(set(where.values())))
        return {ticket_id: stored.get(location) for ticket_id, location in where.items()}

    def top_impacts(self, limit: int) -> list[Impact]:
        """Open bugs, highest rank first (one read of the ranked index)."""
        return self.port.top_impacts(limit)

    def scan_impacts(self) -> Iterator[Impact]:
        """Every stored tally."""
        return self.port.scan_impacts()

    def recount_impacts(self) -> int:
        """Rebuild every tally from the records; returns how many were corrected."""
        with self.transaction():
            before = {found.ticket_id: found for found in self.port.scan_impacts()}
            corrected, _ = self._correct_impacts(before, impact.tally(self.port.scan_records()))
        return corrected

    def _correct_impacts(self, before: dict[str, Impact], recounted: dict[str, Impact]) -> tuple[int, int]:
        """Write each tally that differs from its recount, conditional on it being as read before the pass
        (one written meanwhile is left for the next recount). Returns (corrected, left)."""
        corrected = left = 0
        for ticket_id in sorted(set(before) | set(recounted)):
            kept, fresh = before.get(ticket_id), recounted.get(ticket_id)
            if impact.same(kept, fresh):
                continue
            revision = kept.revision if kept is not None else None
            after = replace(fresh, revision=(revision or 0) + 1) if fresh is not None else None
            try:
                self.port.commit([PutImpact(ticket_id, after, revision)])
                corrected += 1
            except ConditionFailed:
                left += 1
        return corrected, left
