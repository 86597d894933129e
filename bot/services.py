"""Transport-agnostic verbs over the store: the Slack listeners, the console and the CLI all call these.

They validate what people typed (ticket ids, priorities, sources) and raise BugTrackerError with a message
for the person; rendering is the caller's business.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.slack_message import erased, is_erased
from bot.grammar import REPORTED
from bot.tombstones import record_deletion
from storage.bounds import clip
from storage.errors import BugTrackerError, TicketNotFound
from storage.model import (
    PRIORITIES,
    SOURCES,
    BugRecord,
    normalize_priority,
    normalize_timestamp,
    now_timestamp,
    parse_ticket_id,
    range_bounds,
)
from storage.store import BugStore
from storage.values import Counts, Page, TicketView

log = logging.getLogger(__name__)

LIST_KINDS = ("priority", "state", "source")
PAGE_SIZE = 20
MAX_PAGE_READS = 10  # store pages read at most to fill one page of what a person may see
MAX_STATE_CHARS = 200
_DIGITS = re.compile(r"[0-9]{1,9}")  # ASCII only: str.isdigit() also takes "²" and "٣"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UsageError(BugTrackerError):
    """The request was understood as a command but its arguments are not valid."""


class NotAllowed(BugTrackerError):
    """The person may not do this to that record (delete: a report's author or a linker may)."""


@dataclass(frozen=True)
class ListRequest:
    """A checked list request: one or more (kind, value) filters, normalised, and a checked date range."""

    filters: tuple[tuple[str, str], ...]  # empty: every bug (the CLI's `list` without a filter)
    since: str | None = None
    until: str | None = None

    @property
    def kind(self) -> str:
        return self.filters[0][0]

    @property
    def value(self) -> str:
        return self.filters[0][1]


def show_ticket(store: BugStore, ticket_id: str, include_deleted: bool = False) -> TicketView:
    return store.show(parse_ticket_id(ticket_id), include_deleted=include_deleted)


def check_list_request(
    filters: Mapping[str, str | None],
    since: str | None = None,
    until: str | None = None,
    option: str = "--",
    required: bool = True,
) -> ListRequest:
    """The one check of list filters, for the CLI, `/bug list` and the drill-down API alike.

    `filters` maps kinds to values as typed (`priority p1`, `source Slack`, `state open`); blank values mean
    "no filter"; the rest combine (AND). At least one must remain if `required` (`bugtracker list` alone
    lists every bug). Dates: an ISO date or timestamp (offsets allowed) in years
    0001-9999 once in UTC, since not after until. `option` prefixes names in messages (`--since` / `since`).
    """
    checked: list[tuple[str, str]] = []
    for raw_kind, raw_value in filters.items():
        kind = raw_kind.strip().lower()
        if kind not in LIST_KINDS:
            raise UsageError(f"cannot list by '{clip(raw_kind, 40)}'; list by {', '.join(LIST_KINDS)}")
        value = (raw_value or "").strip()
        if value:
            checked.append((kind, _check_value(kind, value)))
    if not checked and required:
        if len(filters) == 1:
            raise UsageError(f"list by {next(iter(filters)).strip().lower()} needs a value")
        raise UsageError(f"list needs at least one of {', '.join(LIST_KINDS)}")
    for name, moment in (("since", since), ("until", until)):
        if moment:
            _check_date(f"{option}{name}", moment)
    low, high = range_bounds(since, until)
    if low > high:
        raise UsageError(
            f"{option}since ({clip(since or '', 40)}) is after {option}until ({clip(until or '', 40)})"
        )
    return ListRequest(tuple(checked), since or None, until or None)


def normalize_list_request(
    kind: str, value: str, since: str | None = None, until: str | None = None
) -> ListRequest:
    """Check one list filter as typed by a person: `priority p1`, `source Slack`, `state open`."""
    return check_list_request({kind: value}, since=since, until=until)


def check_limit(text: str | int | None, default: int, maximum: int) -> int:
    """A page size as typed: ASCII digits, 1..maximum."""
    if text is None or text == "":
        return default
    value = str(text).strip()
    if not _DIGITS.fullmatch(value) or not 1 <= int(value) <= maximum:
        raise UsageError(f"limit must be a whole number from 1 to {maximum}, not '{clip(value, 20)}'")
    return int(value)


def _check_value(kind: str, value: str) -> str:
    if kind == "priority":
        value = normalize_priority(clip(value, 40)) or ""
        if value not in PRIORITIES:
            raise UsageError(f"list by priority needs one of {', '.join(PRIORITIES)}")
        return value
    if kind == "source":
        if value.lower() not in SOURCES:
            raise UsageError(f"unknown source '{clip(value, 40)}'; use one of {', '.join(SOURCES)}")
        return value.lower()
    if len(value) > MAX_STATE_CHARS or _CONTROL.search(value):
        raise UsageError(f"a state name is at most {MAX_STATE_CHARS} printable characters")
    return value


def _check_date(name: str, text: str) -> None:
    try:
        normalize_timestamp(text)
    except (ValueError, OverflowError):  # OverflowError: 9999-12-31T23:59:59-01:00 is year 10000 in UTC
        raise UsageError(
            f"{name} needs a date like 2026-11-01 or 2026-11-01T10:00:00Z (years 0001-9999 in UTC),"
            f" not '{clip(text, 40)}'"
        ) from None


def list_bugs(
    store: BugStore,
    request: ListRequest,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    visible: Callable[[Any], bool] | None = None,
) -> Page:
    """One page of the list; `visible`: only the rows it accepts (who may read what, bot/slack/readers.py)."""
    filters = dict(request.filters)
    if "state" in filters:
        filters["state"] = _stored_state(store, filters["state"])
    if filters.get("state", "").casefold() == REPORTED and filters["state"] not in store.counts().by_state:
        # Slack reports have no state of their own: their cards say "reported", so that state lists them
        del filters["state"]
        if filters.setdefault("source", "slack") != "slack":
            return Page((), None)

    def fetch(at: str | None, size: int) -> Page:
        return store.list_records(**filters, since=request.since, until=request.until, limit=size, cursor=at)

    return visible_page(fetch, cursor, limit, visible, store)


def _stored_state(store: BugStore, typed: str) -> str:
    """The state as the store spells it (`Solved` -> `solved`): states are the sources' own names, matched
    without regard to case through the kept counts (a keyed read, not a scan). Two spellings of one name
    (a Zendesk `open`, a Shortcut `Open`) are a question back, not a guess."""
    known = [name for name, count in store.counts().by_state.items() if count]
    if typed in known:
        return typed
    same = sorted(name for name in known if name.casefold() == typed.casefold())
    if len(same) > 1:
        raise UsageError(f"state '{clip(typed, 40)}' is stored as {', '.join(same)}; give one exactly")
    return same[0] if same else typed


def no_match(store: BugStore, request: ListRequest) -> str:
    """Why a list came back empty, naming the store: for each filter value no live record has, the closest
    values that some record does have (difflib), else the combination itself."""
    counts = store.counts()
    stored = {"priority": counts.by_priority, "state": counts.by_state, "source": counts.by_source}
    hints = []
    for kind, value in request.filters:
        known = [name for name, count in stored[kind].items() if count and name != "none"]
        if value.casefold() in {name.casefold() for name in known}:
            continue
        # stored names are outside text (Shortcut's workflow states): one line each, bounded
        folded = {name.casefold(): clip(" ".join(name.split()), 40) for name in sorted(known)}
        close = difflib.get_close_matches(value.casefold(), list(folded), n=3, cutoff=0.6)
        if close:
            hints.append(
                f"no bug has {kind} '{clip(value, 40)}'; closest: {', '.join(folded[c] for c in close)}"
            )
        elif known:
            shown = sorted(folded.values())[:10]
            more = ", ..." if len(known) > len(shown) else ""
            hints.append(f"no bug has {kind} '{clip(value, 40)}'; known: {', '.join(shown)}{more}")
        else:
            hints.append(f"no bug has any {kind} yet")
    asked = ", ".join(f"{kind} {clip(value, 40)}" for kind, value in request.filters)
    dates = " ".join(
        f"{name} {moment}" for name, moment in (("since", request.since), ("until", request.until)) if moment
    )
    where = f"in the {store.description}"
    if not request.filters and not dates:
        head = f"no bugs {where}" if counts.total else f"no bugs are stored yet {where}"
    else:
        head = f"no bugs match {' '.join(filter(None, (asked, dates)))} {where}"
    return "; ".join([head, *hints])


def unlinked_reports(
    store: BugStore,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    visible: Callable[[Any], bool] | None = None,
) -> Page:
    return visible_page(lambda at, size: store.unlinked_slack(limit=size, cursor=at), cursor, limit, visible)


def visible_page(
    fetch: Callable[[str | None, int], Page],
    cursor: str | None,
    limit: int,
    visible: Callable[[Any], bool] | None,
    store: BugStore | None = None,
) -> Page:
    """A page of up to `limit` rows that `visible` accepts, read from the store's pages (each asks for just
    what is still missing, so the cursor returned resumes exactly after the last row read). At most
    MAX_PAGE_READS store pages: a person who may read few of the rows gets a short page and "next".
    `store`: the rows may be tickets or stories, judged on their full records (with_attributes)."""
    if visible is None:
        return fetch(cursor, limit)
    rows: list[Any] = []
    for _ in range(MAX_PAGE_READS):
        page = fetch(cursor, limit - len(rows))
        full = with_attributes(store, page.records) if store is not None else list(page.records)
        rows += [row for row, judged in zip(page.records, full, strict=True) if visible(judged)]
        cursor = page.next_cursor
        if cursor is None or len(rows) >= limit:
            break
    return Page(tuple(rows), cursor)


def with_attributes(store: BugStore, rows: Sequence[BugRecord]) -> list[BugRecord]:
    """The rows, each Zendesk ticket or Shortcut story among them with its attributes: DynamoDB's index rows
    carry none (storage/schema.py SUMMARY_ATTRIBUTES), and one created from a private channel's report says
    in them who may read it (`visible_to`, docs/privacy.md). One batched read per source for such rows; a
    row that is no longer stored stays as it is."""
    missing: dict[str, list[str]] = {}
    for row in rows:
        if row.source_system != "slack" and not row.attributes:
            missing.setdefault(row.source_system, []).append(row.record_id)
    if not missing:
        return list(rows)
    found = {
        (system, record_id): record
        for system, record_ids in missing.items()
        for record_id, record in store.get_records(system, record_ids).items()
        if record is not None
    }
    return [found.get((row.source_system, row.record_id), row) for row in rows]


def delete_report(
    store: BugStore, report_id: str, actor: str, may_delete: Callable[[str | None], bool]
) -> BugRecord:
    """Remove a Slack report as Slack's own delete does: its words erased, its id, channel, author, times and
    ticket kept (adapters/slack_message.py `erased`). `may_delete(author)` decides; the erased copy returned.
    `actor` is who asked (the log line's)."""
    home_id = parse_ticket_id(report_id)
    if not home_id.startswith("SL-"):
        raise UsageError(f"only Slack reports (SL-…) are deleted here; {home_id} lives in its own system")
    for _ in range(8):  # a concurrent write: read it again
        stored = store.get_record("slack", home_id.removeprefix("SL-"))
        if stored is None or (stored.deleted and is_erased(stored)):
            raise TicketNotFound(f"{home_id} is not a stored report")
        if not may_delete(stored.attributes.get("author")):
            raise NotAllowed(f"only the author of {home_id} or a linker (BUG_LINKERS) may delete it")
        channel = stored.attributes.get("channel")
        if channel:  # deleted is terminal: a late insert or edit of it erases itself (bot/tombstones.py)
            record_deletion(store, str(channel), stored.record_id)
        kept = erased(stored, max(stored.updated_at, now_timestamp()))
        if store.erase(stored, kept):
            log.info("%s deleted report %s", clip(actor, 80), home_id)
            return kept
    raise BugTrackerError(f"{home_id} kept changing while it was deleted; try again")


def stats(store: BugStore) -> Counts:
    return store.counts()


def recount(store: BugStore, advance: Callable[[int], None] | None = None) -> dict[str, int]:
    """Count every record again and correct the kept counters; the drift found (recounted - kept).
    advance(n): n more records read (the CLI's progress bar)."""
    return store.recount(advance)
