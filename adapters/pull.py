"""What a pull hands the sync runner: pages of records, each with the checkpoint to save once written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storage.errors import BugTrackerError
from storage.model import BugRecord


class UpstreamError(BugTrackerError):
    """The upstream API failed in a way retries did not cure (budget spent, 5xx, bad token, ...).

    The run stops; the next run resumes from the last saved checkpoint.
    """


class UnmappableRecord(BugTrackerError):
    """An upstream item the sync cannot turn into a record (reported, counted as failed, run goes on)."""


@dataclass
class PulledPage:
    records: list[BugRecord]
    failures: list[str] = field(default_factory=list)  # one line per upstream item that could not be mapped
    checkpoint: dict[str, Any] | None = None  # saved under the source's meta key after records are written
    links: dict[str, str] = field(default_factory=dict)  # home id -> ticket id to link it to (auto-link)
    total_hint: int | None = None  # how many items the whole pull will bring, when the API says


@dataclass
class PullStats:
    """Counters a pull keeps while it runs (for the summary, the metrics and the benchmark)."""

    requests: int = 0
    rate_limit_wait: float = 0.0
