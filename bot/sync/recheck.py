"""Stories deleted upstream, found by counting: Shortcut's search never returns a deleted story (and the API
deletes any story, whatever its state), so the sync compares what it stored with what search counts.

One comparison: the stored, live stories of the source (archived ones included, as search includes them
unless SHORTCUT_QUERY says `!is:archived`) against search's `total` for `<SHORTCUT_QUERY> created:A..B`
(one request, one result). Equal: nothing was deleted in that window. Different: the window is split at its
median stored day and its older half counted (the newer half's count is the difference: one request a
split), until a differing window can be listed in one request: up to LIST_LIMIT stories by creation time
through POST /stories/search (when SHORTCUT_QUERY translates to its filters), else one page of search
(READ_LIMIT). A half small enough to be listed is listed instead of counted (one request either way; a
deletion in it is found at once). Only the stored stories a listing lacks are read one by one
(`GET /stories/{id}`: 404 marks the record deleted, an answer is written like any pulled record); listed
stories the store lacks are stored. Whether search reads a `created:` day in the workspace's zone or in UTC
is not documented: the first comparison's count settles it when only one reading fits it (search counts no
more than is stored), else the day of one stored story whose two days differ is listed, once (kept as
`reading`); every count uses that reading, and only a 404 marks a story deleted, so no reading can make a
live story look deleted.

The window compared ends the day before the pull's watermark (stories made since then are the pull's
business). At steady state a comparison is one request; a deletion costs about log2(stories / 1,800)
counts, one or two listings and one read. The scheduled sync compares every RECHECK_EVERY_SECONDS
(bot/sync/runner.py); `bugtracker recheck` compares now, without a rate-limit budget. The windows still to
compare are saved under `<meta key>:recheck` after each one, so an interrupted comparison resumes there.

Two things stop a comparison with one clear error and mark nothing: the token now reads another workspace
(`workspace2.id` differs from the one the stored stories came from), and a whole batch of reads answering
404 (RECHECK_MASS_404 or more: a token for another workspace, not a deletion).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from storage.errors import BugTrackerError
from storage.model import ARCHIVED_STATE, BugRecord, format_timestamp, parse_timestamp
from storage.store import BugStore
from storage.values import UpsertOutcome

log = logging.getLogger(__name__)

# a scheduled comparison at most this often: 3 requests a day at rest, beside the pulls' 288 (every 300 s)
# and GET /member's one, leaving room for a deletion (7 or 8 requests at 50,000 stories) under 300 a day in
# all (bench/shortcut_day.py); a deletion is found within eight hours
RECHECK_EVERY_SECONDS = 8 * 3600
READ_LIMIT = 250  # a differing window is listed once it holds at most this many: one page
LIST_LIMIT = 900  # ... or this many, listed by creation time in one request (kept clear of the 1,000 cap)
RECHECK_MASS_404 = 20  # this many reads in one batch all answering 404: a wrong token, not deletions
STEP = 100  # stories read one by one at a time
STORE_PAGE = 500  # stored rows listed at a time (the store's largest page)

Window = tuple[date | None, date | None]  # first and last day, both included; None: open
Pending = tuple[date | None, date | None, int | None]  # a window to compare and its count if known


class RecheckStopped(BugTrackerError):
    """The comparison cannot be trusted (another workspace): nothing was marked deleted."""


@dataclass
class RecheckResult:
    checked: int = 0  # stored stories whose windows were compared
    gone: int = 0  # answered 404: marked deleted
    updated: int = 0  # answered with a newer copy (or stored for the first time)
    changed: list[BugRecord] = field(default_factory=list)  # what was written, where it lives now

    def add(self, other: RecheckResult) -> None:
        self.checked += other.checked
        self.gone += other.gone
        self.updated += other.updated
        self.changed += other.changed


@dataclass(frozen=True)
class Stored:
    record_id: str
    created: datetime
    archived: bool
    story_type: str | None = None  # as stored: a story read since its type changed is kept with its new one


def recheck_key(source: Any) -> str:
    return f"{source.meta_key}:recheck"


def run_recheck(
    store: BugStore,
    source: Any,
    *,
    every: float = RECHECK_EVERY_SECONDS,
    clock: Callable[[], float] = time.time,
) -> RecheckResult | None:
    """The scheduled comparison, when due (or one left unfinished); None when the source has none or
    nothing is due. Within the pull's rate-limit budget: past it, RateLimited, and the next run resumes."""
    if not callable(getattr(source, "count_created", None)):
        return None
    saved = store.get_meta(recheck_key(source)) or {}
    now = clock()
    if not saved.get("windows") and now - float(saved.get("last") or 0) < every:
        return None
    return _compare(store, source, now, saved)


def recheck_everything(
    store: BugStore,
    source: Any,
    progress: Callable[[RecheckResult], None] | None = None,
    hold: Callable[[], AbstractContextManager[Any]] = nullcontext,
    clock: Callable[[], float] = time.time,
) -> RecheckResult:
    """`bugtracker recheck`: a comparison now, to its end (no rate-limit budget). `hold()` is entered
    around each step (the CLI takes the sync lease there and gives it back after, so pulls go on)."""
    source.set_ratelimit_budget(float("inf"))
    saved = store.get_meta(recheck_key(source)) or {}
    return _compare(store, source, clock(), saved, progress=progress, hold=hold)


def _compare(
    store: BugStore,
    source: Any,
    now: float,
    saved: dict[str, Any],
    progress: Callable[[RecheckResult], None] | None = None,
    hold: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> RecheckResult:
    key, result = recheck_key(source), RecheckResult()
    with hold():
        checkpoint = store.get_meta(source.meta_key) or {}
        workspace, offset = source.workspace(checkpoint)
        known = saved.get("workspace")
        if known and workspace and workspace != known:
            raise RecheckStopped(
                f"SHORTCUT_API_TOKEN now reads Shortcut workspace {workspace}, but the stored stories came"
                f" from workspace {known}: nothing was rechecked or marked deleted. Use a token of that"
                " workspace, or a new store (DYNAMODB_TABLE / the SQLite file) for the other one"
            )
        windows = [_pending(item) for item in saved.get("windows") or []] or [
            (None, _last_day(checkpoint), None)
        ]
        stories = _stored(store, source)
        if offset and saved.get("reading") not in ("utc", "workspace") and len(windows) == 1:
            windows[0] = _settle_by_count(source, stories, offset, saved, windows[0])
        shift = _reading(source, stories, offset, saved, windows)
    state = {
        "workspace": workspace or known,
        "last": saved.get("last"),
        "windows": _saved(windows),
        "reading": saved.get("reading"),
    }
    while windows:
        window = windows.pop()
        with hold():
            step, parts = _step(store, source, stories, window, shift)
            windows.extend(reversed(parts))
            state["windows"] = _saved(windows)
            if not windows:
                state["last"] = now
            store.put_meta(key, state)  # as it goes: an interruption resumes here
        result.add(step)
        if progress:
            progress(step)
    _log(source.name, result)
    return result


def _step(
    store: BugStore, source: Any, stories: list[Stored], pending: Pending, shift: timedelta
) -> tuple[RecheckResult, list[Pending]]:
    """Compare one window: (what was written, the halves to compare next, their counts known)."""
    low, high, remote = pending
    inside = [s for s in stories if _within(s.created, (low, high), shift)]
    if remote is None:
        remote = source.count_created(low, high)
    if remote == len(inside):
        return RecheckResult(checked=len(inside)), []
    ids = {s.record_id for s in inside}
    if max(len(inside), remote) <= LIST_LIMIT:
        listed = _listed(source, (low, high), shift)
        if listed is not None:
            return _read(store, source, (low, high), ids, listed), []
    halves = _halves((low, high), inside, shift) if low != high else []
    if max(len(inside), remote) > READ_LIMIT and halves:
        older, newer = halves
        older_ids = {s.record_id for s in inside if _within(s.created, older, shift)}
        # a half small enough is listed rather than counted (one request either way): a deletion in it
        # is found at once; the newer half's count is what is left, as after a count
        listed = _listed(source, older, shift) if len(older_ids) <= LIST_LIMIT else None
        if listed is not None:
            found = _read(store, source, older, older_ids, listed)
            counted = _listed_within(listed, older, shift)
            return found, [(*newer, max(0, remote - counted))]
        counted = source.count_created(*older)  # the newer half's is what is left: one request a split
        return RecheckResult(), [(*older, counted), (*newer, max(0, remote - counted))]
    return _read(store, source, (low, high), ids), []


def _listed(source: Any, window: Window, shift: timedelta) -> list[dict[str, Any]] | None:
    """A window's stories by creation time in one request (POST /stories/search), when the source can."""
    lister = getattr(source, "list_created_at", None)
    if not callable(lister):
        return None
    low, high = window
    start = _midnight(low) - shift if low else None
    end = _midnight(high + timedelta(days=1)) - shift if high else None
    return lister(start, end)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _listed_within(listed: list[dict[str, Any]], window: Window, shift: timedelta) -> int:
    """How many listed stories were created within the window (a bound's own instant may list one more)."""
    count = 0
    for story in listed:
        try:
            created = datetime.fromisoformat(str(story.get("created_at")).replace("Z", "+00:00"))
        except ValueError:
            continue
        count += created.tzinfo is not None and _within(created, window, shift)
    return count


def _settle_by_count(
    source: Any, stories: list[Stored], offset: timedelta, saved: dict[str, Any], window: Pending
) -> Pending:
    """The first comparison's count, and what it tells about how search reads a `created:` day.

    Search counts at most what is stored (deletions only take away; the window ends before the pull's
    watermark, so nothing newer is counted). The count equal to the stored stories of one reading, while the
    other reading holds fewer than it, can only be that reading: it is settled without a listing. Otherwise
    (both fit, or neither) the count is kept and the reading is settled by a listing if it matters."""
    low, high, remote = window
    if remote is None:
        remote = source.count_created(low, high)
    fits = {
        name: sum(1 for s in stories if _within(s.created, (low, high), shift))
        for name, shift in (("workspace", offset), ("utc", timedelta(0)))
    }
    for name, other in (("workspace", "utc"), ("utc", "workspace")):
        if fits[name] == remote and fits[other] < remote:
            saved["reading"] = name
            log.info("recheck %s: search reads created: days in %s (by its count)", source.name, name)
            break
    return (low, high, remote)


def _reading(
    source: Any,
    stories: list[Stored],
    offset: timedelta | None,
    saved: dict[str, Any],
    windows: list[Pending],
) -> timedelta:
    """How search reads a `created:` day: the workspace's zone or UTC (saved once settled). Unsettled, a
    first comparison whose count fits both readings needs neither (nothing is listed to settle it yet)."""
    if not offset:
        return timedelta(0)
    if saved.get("reading") in ("utc", "workspace"):
        return timedelta(0) if saved["reading"] == "utc" else offset
    if len(windows) == 1 and windows[0][2] is not None:
        low, high, remote = windows[0]
        if all(
            sum(1 for s in stories if _within(s.created, (low, high), shift)) == remote
            for shift in (offset, timedelta(0))
        ):
            return offset
    differing = [s for s in reversed(stories) if _day(s.created, offset) != _day(s.created, timedelta(0))]
    for story in differing[:3]:
        for shift in (offset, timedelta(0)):
            day = _day(story.created, shift)
            listed = source.list_created(day, day)
            if listed is not None and story.record_id in {str(item.get("id")) for item in listed}:
                saved["reading"] = _reading_name(shift, offset)
                log.info("recheck %s: search reads created: days in %s", source.name, saved["reading"])
                return shift
    return offset  # nothing tells them apart yet: the documented reading


def _reading_name(shift: timedelta, offset: timedelta | None) -> str | None:
    if not offset:
        return None
    return "workspace" if shift == offset else "utc"


def _read(
    store: BugStore,
    source: Any,
    window: Window,
    stored_ids: set[str],
    listed: list[dict[str, Any]] | None = None,
) -> RecheckResult:
    """List a differing window (unless listed already) and read the stored stories it lacks one by one."""
    if listed is None:
        listed = source.list_created(*window)
    result = RecheckResult(checked=len(stored_ids))
    if listed is None:  # over the cap even so (one busy day): every stored story of it is read
        missing = sorted(stored_ids)
    else:
        listed_ids = {str(story.get("id")) for story in listed}
        missing = sorted(stored_ids - listed_ids)
        new = [story for story in listed if store.get_record(source.name, str(story.get("id"))) is None]
        if new:
            _write(store, source.records_of(new).records, [], result)
    for start in range(0, len(missing), STEP):
        batch = missing[start : start + STEP]
        page, gone = source.recheck(batch)
        if len(batch) >= RECHECK_MASS_404 and len(gone) == len(batch):
            raise RecheckStopped(
                f"every one of the {len(batch)} stored stories asked about answered 404: is"
                " SHORTCUT_API_TOKEN for another workspace? Nothing was marked deleted"
            )
        for failure in page.failures:
            log.warning("recheck %s: %s", source.name, failure)
        deleted = []
        for record_id in gone:
            stored = store.get_record(source.name, record_id)
            if stored is not None and not stored.deleted:
                deleted.append(replace(stored, deleted=True, source_version=_newer(stored), ticket_id=None))
        _write(store, list(page.records), deleted, result)
    return result


def _write(
    store: BugStore, records: list[BugRecord], deleted: list[BugRecord], result: RecheckResult
) -> None:
    updates = records + deleted
    gone = {record.record_id for record in deleted}
    for record, outcome in zip(updates, store.upsert_many(updates) if updates else [], strict=True):
        if outcome.outcome in (UpsertOutcome.UPDATED, UpsertOutcome.INSERTED):
            result.changed.append(replace(record, ticket_id=outcome.ticket_id))
            if record.deleted and record.record_id in gone:
                result.gone += 1
            else:
                result.updated += 1


def _newer(stored: BugRecord) -> str:
    """A version that wins over the stored copy: now, or just after the stored one (a clock behind)."""
    known = parse_timestamp(stored.source_version or stored.updated_at)
    return format_timestamp(max(datetime.now(UTC), known + timedelta(milliseconds=1)))


def _stored(store: BugStore, source: Any) -> list[Stored]:
    """The source's stored live stories that search would count (archived ones too, unless the query
    says otherwise; of the query's `type:` by their stored type) with their creation time, oldest first."""
    stored: list[Stored] = []
    for state in (None, ARCHIVED_STATE):
        cursor = None
        while True:
            page = store.list_records(source=source.name, state=state, limit=STORE_PAGE, cursor=cursor)
            for record in page.records:
                if not record.deleted:
                    created = datetime.fromisoformat(record.created_at.replace("Z", "+00:00"))
                    kind = (record.attributes or {}).get("story_type")
                    stored.append(
                        Stored(
                            record.record_id,
                            created,
                            record.state == ARCHIVED_STATE,
                            kind.casefold() if isinstance(kind, str) else None,
                        )
                    )
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    terms = str(getattr(source, "query", "")).split()
    if "!is:archived" in terms:
        stored = [s for s in stored if not s.archived]
    elif "is:archived" in terms:
        stored = [s for s in stored if s.archived]
    kinds = {value.casefold() for name, _, value in (t.partition(":") for t in terms) if name == "type"}
    if kinds:  # a story whose type left the query (a bug made a feature) is not one search counts
        stored = [s for s in stored if s.story_type is None or s.story_type in kinds]
    return sorted(stored, key=lambda s: s.created)


def _day(instant: datetime, shift: timedelta) -> date:
    return (instant.astimezone(UTC) + shift).date()


def _within(instant: datetime, window: Window, shift: timedelta) -> bool:
    day, (low, high) = _day(instant, shift), window
    return (low is None or day >= low) and (high is None or day <= high)


def _halves(window: Window, inside: list[Stored], shift: timedelta) -> list[Window]:
    """The window split at its median stored day (older half first); none when it cannot be split."""
    low, high = window
    days = [_day(s.created, shift) for s in inside]
    if not days:
        return []
    first, last = low or days[0], high or days[-1]
    middle = days[len(days) // 2]
    if middle >= last:
        middle = last - timedelta(days=1)
    if middle < first:
        return []
    return [(low, middle), (middle + timedelta(days=1), high)]


def _last_day(checkpoint: dict[str, Any]) -> date | None:
    """The day before the pull's watermark: stories made since are the pull's to bring."""
    watermark = checkpoint.get("watermark")
    try:
        return date.fromisoformat(str(watermark)[:10]) - timedelta(days=1) if watermark else None
    except ValueError:
        return None


def _saved(windows: list[Pending]) -> list[list[Any]]:
    return [
        [low.isoformat() if low else None, high.isoformat() if high else None, n] for low, high, n in windows
    ]


def _pending(item: Any) -> Pending:
    low, high, *count = item
    known = count[0] if count and isinstance(count[0], int) else None
    return (date.fromisoformat(low) if low else None, date.fromisoformat(high) if high else None, known)


def _log(name: str, result: RecheckResult) -> None:
    if result.gone or result.updated:
        log.info("recheck %s: %d deleted upstream, %d changed", name, result.gone, result.updated)
