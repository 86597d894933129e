"""The counters' upkeep, written once above the port: the recount (count every record again, correct the
counters and each bug's impact tally, save what drifted) and `migrate`, which brings a store to this schema
and then recounts."""

from __future__ import annotations

from collections.abc import Iterator

from storage import counters, impact
from storage.impact_upkeep import ImpactUpkeep
from storage.model import BugRecord, now_timestamp
from storage.port import Advance, Progress

RECOUNT_META = "counts:recount"  # the last recount: {at, drift, counters, uncorrected, impact}
ADVANCE_EVERY = 500  # records read between two calls of a progress bar's advance()


class Recount(ImpactUpkeep):
    def migrate(
        self, progress: Progress = print, manage_indexes: bool = False, advance: Advance | None = None
    ) -> None:
        """Bring an existing store to this schema (idempotent, resumable), then recount. manage_indexes:
        the store may change its own indexes (DynamoDB on a local endpoint; on AWS they are Terraform's).
        progress: one line per step; advance(n): n more records read by a pass (a progress bar)."""
        self.port.prepare_migration(progress, manage_indexes, advance)
        progress("recounting the counters")
        drift = self.recount(advance)
        progress(f"counters set ({len(drift)} counter(s) corrected)")
        self.port.finish_migration(progress, manage_indexes)

    def recount(self, advance: Advance | None = None) -> dict[str, int]:
        """Count every record again and correct the counters; returns the drift found (recounted - kept).
        advance(n): called as records are read (a progress bar over a pass that may take a minute).

        Counters that changed while the records were read (a write meanwhile) are not corrected this time
        on a store without one transaction around the pass (DynamoDB): their drift is reported and the
        next recount corrects it. The result is saved (meta `counts:recount`) for the drift gauge."""
        with self.transaction():
            before = self.port.read_counters()
            tallies_before = {found.ticket_id: found for found in self.port.scan_impacts()}
            tallies = impact.Tally()
            recounted = counters.tally(tallies.feed(_reported(self.port.scan_records(), advance)))
            after = self.port.read_counters()
            moving = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
            found = counters.drift(after, recounted)
            correction = {name: number for name, number in found.items() if name not in moving}
            if correction:
                self.port.adjust_counters(correction)
            impact_corrected, impact_left = self._correct_impacts(tallies_before, tallies.result())
        self.port.put_meta(
            RECOUNT_META,
            {
                "at": now_timestamp(),
                "drift": sum(abs(number) for number in found.values()),
                "counters": found,
                "uncorrected": sorted(set(found) - set(correction)),
                "impact": {"corrected": impact_corrected, "uncorrected": impact_left},
            },
        )
        return found

    def read_counters(self) -> dict[str, int]:
        """Every counter as kept (storage/counters.py names), zeros left out."""
        return self.port.read_counters()

    def scan_records(self) -> Iterator[BugRecord]:
        """Every stored record (deleted ones included), read in pages."""
        return self.port.scan_records()

    def adjust_counters(self, change: dict[str, int]) -> None:
        """Add change to the counters (atomic adds)."""
        self.port.adjust_counters(change)


def _reported(records: Iterator[BugRecord], advance: Advance | None) -> Iterator[BugRecord]:
    """The records as they are read, telling advance() every few hundred (a bar needs no more)."""
    if advance is None:
        yield from records
        return
    pending = 0
    for record in records:
        yield record
        pending += 1
        if pending == ADVANCE_EVERY:
            advance(pending)
            pending = 0
    if pending:
        advance(pending)
