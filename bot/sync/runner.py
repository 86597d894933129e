"""The sync runner: one pull of one source into the store, under a lease, resumable page by page.

For each page: write its records (`upsert_many`: nothing is written for unchanged copies, newer-wins for
updates), link stories to the Zendesk ticket they name, then save the page's checkpoint (export cursor /
watermark). A run killed anywhere resumes from the last saved checkpoint and re-reads at most one page,
which the store finds unchanged: nothing lost, nothing duplicated.

A run that made progress (saved a checkpoint) and then spent its rate-limit budget (RateLimited) is not a
failed run: the upstream's limit sets the pace of a backfill. Its summary says `continues` (a backfill: "N of
about M", N and M kept in the checkpoint's `backfill` entry until the backfill ends), no failure is counted,
and the next run carries on from the checkpoint (the scheduler starts it at once, bot/sync/scheduler.py;
`bugtracker sync --until-done` runs them back to back).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from adapters.pull import PulledPage, RateLimited, SyncSource
from bot.metrics import registry
from bot.sync.backfill import backfill_state, estimate_size
from bot.sync.changes import ChangeNotifier
from bot.sync.lease import LEASE_TTL_SECONDS, HeldLease, default_owner, frees_at, holder_name, take_lease
from bot.sync.recheck import run_recheck
from storage.errors import BugTrackerError
from storage.model import BugRecord
from storage.primitives import Lease
from storage.store import BugStore
from storage.values import UpsertOutcome

log = logging.getLogger(__name__)

OUTCOMES = ("fetched", "inserted", "updated", "unchanged", "failed")


@dataclass
class SyncSummary:
    source: str
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0  # older than the stored copy: nothing written
    failed: int = 0
    linked: int = 0
    rechecked: int = 0  # stored records asked about one by one (the bounded recheck)
    gone: int = 0  # of those, deleted upstream: marked deleted
    requests: int = 0
    rate_limit_wait: float = 0.0
    seconds: float = 0.0
    skipped: bool = False  # another runner holds the lease
    holder: str | None = None  # when skipped: who holds it (host:pid)
    lease_frees_at: str | None = None  # when skipped: when its lease expires unless renewed (HH:MM:SS UTC)
    error: str | None = None
    continues: bool = False  # stopped on the rate limit after making progress: the next run carries on
    backfill: bool = False  # a backfill (first pull, --full) was under way in this run
    backfill_fetched: int = 0  # items the backfill has brought so far, over all its runs
    backfill_about: int | None = None  # about how many it will bring (the API's count), when known

    def line(self) -> str:
        if self.skipped:
            held = f" ({self.holder}; its lease frees at {self.lease_frees_at} unless renewed)"
            return (
                f"{self.source}: skipped, another sync of {self.source} is running"
                f"{held if self.holder else ''}; --wait waits for it"
            )
        text = (
            f"{self.source}: fetched {self.fetched}, inserted {self.inserted}, updated {self.updated},"
            f" unchanged {self.unchanged + self.stale}, failed {self.failed}"
        )
        if self.linked:
            text += f", linked {self.linked}"
        if self.rechecked:
            text += f", rechecked {self.rechecked} ({self.gone} deleted upstream)"
        text += f" ({self.requests} requests, {self.seconds:.1f}s)"
        if self.continues:
            if self.backfill:
                about = f" of about {self.backfill_about}" if self.backfill_about else ""
                return f"{text}; backfill continues: {self.backfill_fetched}{about}"
            return f"{text}; continues at the next run (rate limit)"
        return text + (f"; stopped: {self.error}" if self.error else "")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ProgressHook = Callable[[PulledPage, SyncSummary], None]


def run_sync(
    store: BugStore,
    source: SyncSource,
    *,
    full: bool = False,
    owner: str | None = None,
    lease_ttl: float = LEASE_TTL_SECONDS,
    progress: ProgressHook | None = None,
    wait: bool = False,
    waiting: Callable[[Lease], None] | None = None,
    poll_seconds: float = 1.0,
    notifier: ChangeNotifier | None = None,
    clock: Callable[[], float] = time.time,
) -> SyncSummary:
    """Pull one source once. Expected failures end the run with `summary.error` set (and are logged).

    `clock` is the recheck's (bot/sync/recheck.py: a comparison every few hours).
    `notifier` hears of every record the run inserted or changed (page by page, before the page's
    checkpoint is saved) and of the run's end (bot/sync/changes.py).

    When another runner holds the lease: skipped (the summary names the holder), or with `wait` the run
    polls until it can take it (`waiting(lease)` is told once who it waits for)."""
    summary = SyncSummary(source.name)
    lease_name, owner = f"sync:{source.name}", owner or default_owner()
    told = False
    while True:
        taken, held = take_lease(store, lease_name, owner, lease_ttl)
        if taken:
            break
        if not wait:
            log.debug("sync %s skipped: the lease is held by %s", source.name, held and held.owner)
            return SyncSummary(
                source.name,
                skipped=True,
                holder=holder_name(held.owner) if held else None,
                lease_frees_at=frees_at(held) if held else None,
            )
        if held is not None and waiting and not told:
            waiting(held)
            told = True
        left = held.expires_at - time.time() if held is not None else poll_seconds
        time.sleep(min(poll_seconds, max(0.05, left)))
    lease = HeldLease(store, lease_name, owner, lease_ttl).start()
    started = time.monotonic()
    progressed = False
    try:
        saved = store.get_meta(source.meta_key)
        backfill = backfill_state(saved, full)
        summary.backfill = backfill is not None
        for page in source.pull(saved, full=full):
            lease.check()
            changed = _write_page(store, page, summary)
            _tell(notifier, changed)
            if backfill is not None:
                backfill["fetched"] += len(page.records) + len(page.failures)
                backfill["about"] = backfill["about"] or page.total_hint
            checkpoint = page.checkpoint
            if checkpoint is not None and backfill is not None:
                checkpoint = {**checkpoint, "backfill": dict(backfill)}
            if checkpoint is not None and checkpoint != saved:  # an idle re-sync writes nothing
                store.put_meta(source.meta_key, checkpoint)
                saved, progressed = checkpoint, True
            if progress:
                progress(page, summary)
        if saved is not None and "backfill" in saved:  # the backfill is over: the next run is incremental
            store.put_meta(source.meta_key, {k: v for k, v in saved.items() if k != "backfill"})
        lease.check()
        # a backfill just read everything: the next run compares (bot/sync/recheck.py)
        recheck = run_recheck(store, source, clock=clock) if backfill is None else None
        if recheck is not None:
            summary.rechecked, summary.gone = recheck.checked, recheck.gone
            summary.updated += recheck.gone + recheck.updated
            _tell(notifier, list(recheck.changed))
    except RateLimited as exc:
        if not progressed:
            _failed(summary, exc)
        else:
            summary.continues = True
            log.info("sync %s: %s", source.name, exc)
            if backfill is not None and saved is not None:
                summary.backfill_fetched = backfill["fetched"]
                summary.backfill_about = backfill["about"] or estimate_size(store, source, saved)
    except BugTrackerError as exc:
        _failed(summary, exc)
    finally:
        lease.stop()
        if notifier is not None:
            try:
                notifier.pull_finished(source.name)
            except Exception:  # announcing is best effort here: what was noted stays noted
                log.exception("sync %s: announcing the changes failed", source.name)
        summary.seconds = time.monotonic() - started
        summary.requests = source.stats.requests
        summary.rate_limit_wait = source.stats.rate_limit_wait
        _record_metrics(summary)
    log.info("sync %s", summary.line())
    return summary


def _failed(summary: SyncSummary, exc: BugTrackerError) -> None:
    summary.error = str(exc)
    log.error("sync %s stopped: %s", summary.source, exc)
    registry.SYNC_FAILURES.labels(summary.source).inc()


def _tell(notifier: ChangeNotifier | None, changed: list[BugRecord]) -> None:
    """Hand the changed records to the notifier; a failing notifier never fails the run's writes, but
    its failure stops the run before the checkpoint moves past changes it did not note."""
    if notifier is not None and changed:
        try:
            notifier.records_changed(changed)
        except BugTrackerError:
            raise
        except Exception as exc:
            log.exception("sync: noting %d changed record(s) failed", len(changed))
            raise NotifierFailed(f"could not note the changed records: {exc}") from exc


class NotifierFailed(BugTrackerError):
    pass


def _write_page(store: BugStore, page: PulledPage, summary: SyncSummary) -> list[BugRecord]:
    """Write the page; the records it inserted or changed (where each lives now), links included."""
    changed: list[BugRecord] = []
    for failure in page.failures:
        log.warning("sync %s: %s", summary.source, failure)
    summary.fetched += len(page.records) + len(page.failures)
    summary.failed += len(page.failures)
    results = store.upsert_many(page.records) if page.records else []
    for record, result in zip(page.records, results, strict=True):
        outcome = result.outcome
        if outcome in (UpsertOutcome.INSERTED, UpsertOutcome.UPDATED):
            changed.append(replace(record, ticket_id=result.ticket_id))
        if outcome is UpsertOutcome.INSERTED:
            summary.inserted += 1
        elif outcome is UpsertOutcome.UPDATED:
            summary.updated += 1
        elif outcome is UpsertOutcome.STALE:
            summary.stale += 1
        else:
            summary.unchanged += 1
        target = page.links.get(record.home_id)
        # Only a new or changed story is linked: a link a person removed stays removed until it changes.
        if target and outcome in (UpsertOutcome.INSERTED, UpsertOutcome.UPDATED):
            linked_to = _auto_link(store, record.home_id, target)
            if linked_to is not None:
                summary.linked += 1
                changed.append(replace(record, ticket_id=linked_to))
    return changed


def _auto_link(store: BugStore, home_id: str, target_id: str) -> str | None:
    """Alias a story to the Zendesk ticket it names, unless it is already linked somewhere; where its
    records went, or None."""
    if len(store.resolve(home_id)) > 1:
        return None
    try:
        return store.link(home_id, target_id, actor="sync").resolved_target
    except BugTrackerError as exc:
        log.warning("sync: could not link %s to %s: %s", home_id, target_id, exc)
        return None


def _record_metrics(summary: SyncSummary) -> None:
    source = summary.source
    registry.SYNC_DURATION.labels(source).set(summary.seconds)
    registry.SYNC_RATE_LIMIT_WAIT.labels(source).inc(summary.rate_limit_wait)
    for outcome in OUTCOMES:
        value = getattr(summary, outcome) + (summary.stale if outcome == "unchanged" else 0)
        registry.SYNC_RECORDS.labels(source, outcome).inc(value)
    if summary.error is None:
        registry.SYNC_LAST_SUCCESS.labels(source).set(time.time())
