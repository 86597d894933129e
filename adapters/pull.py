"""What a pull hands the sync runner: pages of records, each with the checkpoint to save once written."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from storage.errors import BugTrackerError
from storage.model import BugRecord, normalize_timestamp


class UpstreamError(BugTrackerError):
    """The upstream API failed in a way retries did not cure (budget spent, 5xx, bad token, ...).

    The run stops; the next run resumes from the last saved checkpoint.
    """


class RateLimited(UpstreamError):
    """The run spent its rate-limit budget waiting on the upstream's limit. Not a fault: a run that made
    progress before it stops here is a backfill that continues at the next run (bot/sync/runner.py)."""


START_TIME_MIN_AGE = 60  # Zendesk refuses an export start_time less than a minute old


def check_start(start: date | None, now: float) -> None:
    """A SYNC_START in the future is a configuration mistake: one clear line, nothing asked upstream."""
    if (
        start is not None
        and datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() > now - START_TIME_MIN_AGE
    ):
        raise UpstreamError(
            f"SYNC_START {start.isoformat()} is in the future: the sync reads changes since a past day; set"
            " SYNC_START to an earlier date (YYYY-MM-DD) or unset it to read everything"
        )


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


def item_id(item: Any, what: str) -> int:
    """The positive integer id of an upstream item (a ticket, a story), or UnmappableRecord saying why."""
    if not isinstance(item, Mapping):
        raise UnmappableRecord(f"{what} is a {type(item).__name__}, not an object")
    value = item.get("id")
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise UnmappableRecord(f"{what} has no usable id ({value!r})")
    return value


def item_times(item: Mapping[str, Any], label: str) -> tuple[str, str]:
    """(created, updated) as stored timestamps; a missing updated_at means "as new as its creation"."""

    def read(name: str) -> str:
        value = item.get(name)
        if not isinstance(value, str):
            raise UnmappableRecord(f"{label}: {name} is missing")
        try:
            return normalize_timestamp(value)
        except ValueError:
            raise UnmappableRecord(f"{label}: {name} {value!r} is not a timestamp") from None

    created = read("created_at")
    return created, (read("updated_at") if item.get("updated_at") else created)


class SyncSource(Protocol):
    name: str  # "zendesk" / "shortcut": also the lease name and metric label
    meta_key: str  # where the checkpoint lives in the store

    @property
    def stats(self) -> PullStats: ...  # requests, rate_limit_wait

    def pull(self, saved: dict[str, Any] | None, full: bool = False) -> Iterator[PulledPage]: ...

    def set_ratelimit_budget(self, seconds: float) -> None: ...  # math.inf: wait as long as the limit says
