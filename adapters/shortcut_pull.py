"""Shortcut stories updated since the saved watermark, through GET /search/stories (and, for a day with
more than 1000 changes, POST /stories/search by date-time).

The search API filters by day (`updated:YYYY-MM-DD..*`, the workspace's days), pages by a `next` path (250 a
page at most) and serves only the first 1000 matches of a query. So a pull walks windows oldest first
(adapters/shortcut_windows.py): a window with more than 1000 matches is split into parts by day that
overlap on their boundary days, and a single day by time, until each part is under the cap (its first
page is kept; duplicates are dropped by id + updated_at). A day that still cannot be read whole (more than
1000 changes within one second, or a SHORTCUT_QUERY the date-time search cannot express) ends with a
failure line saying how many of its stories were not read. The watermark saved after each finished window
is the day the next query starts from: the window's last day, or for the newest window the workspace's day
two hours before the run started (`utc_offset` from GET /member, read once a day, kept in the checkpoint).

Workflow states (GET /workflows: id -> name and one of the four types) and custom fields (GET /custom-fields:
id -> canonical_name, to find the Priority field) are cached, in memory and in the checkpoint, and listed
again only when a story names one the cache does not know (at most once a run each).
Deleted stories (search never returns them) are found by bot/sync/recheck.py with what this class offers:
`count_created()` (one search request: the `total` of the stories created in a window of days),
`list_created()` (a window's stories, for a window that counts differently), `list_created_at()` (the same by
creation time, in one POST /stories/search of up to 999 stories), `recheck()` (GET /stories/{id}
for the few stored stories a listing lacks: 404 = deleted) and `workspace_id()` (the token's workspace).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

from adapters.pull import PulledPage, PullStats, UnmappableRecord, UpstreamError, check_start
from adapters.shortcut import custom_field_ids, story_to_record, zendesk_ticket_ids
from adapters.shortcut_http import SearchCapReached, ShortcutHttp
from adapters.shortcut_windows import (
    DayWindow,
    date_time_filters,
    day_bounds,
    iso,
    local_day,
    parse_utc_offset,
    resume_day,
    split_back,
    split_days,
    split_time,
)

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 250
MAX_RESULTS = 1000  # the search API's limit per query
HISTORY_START = date(2014, 1, 1)  # before Shortcut (then Clubhouse) existed: the lower bound to split from


def next_url(api_url: str, next_path: str) -> str:
    """Shortcut's `next` (a path such as `/api/v3/search/stories?...&next=...`) on the API's own host. A
    `next` naming another scheme or host is refused (UpstreamError): the request carries the API token."""
    url = urljoin(api_url + "/", str(next_path))
    here, there = urlsplit(api_url), urlsplit(url)
    if (there.scheme, there.netloc) != (here.scheme, here.netloc):
        raise UpstreamError(f"Shortcut's next page is on another host ({there.netloc[:80]}); not followed")
    return url


class ShortcutPull:
    name = "shortcut"
    meta_key = "sync:shortcut"

    def __init__(
        self,
        http: ShortcutHttp,
        query: str,
        start: date | None = None,
        page_size: int = MAX_PAGE_SIZE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.http = http
        self.query = query
        self.start = start
        self.page_size = page_size
        self.clock = clock
        self.states: dict[int, dict[str, str]] = {}
        self.custom_fields: dict[str, str] | None = None  # field id -> canonical_name ("" when none)
        self._fields_refreshed = False  # listed in this run already
        self._workspace: dict[str, Any] = {}  # {"utc_offset": text or None, "utc_offset_read": day}
        self._days_read: set[date] = set()
        self._per_day: float | None = None  # stories a day over the workspace's own days (a backfill)

    @property
    def stats(self) -> PullStats:
        return self.http.stats

    def set_ratelimit_budget(self, seconds: float) -> None:
        """How long a run may wait on rate limits (math.inf: as long as they say; `--until-done`)."""
        self.http.ratelimit_budget = seconds

    @property
    def items_per_minute_at_limit(self) -> float:
        """The fastest a backfill can go: full pages at the self-throttle (bot/sync/backfill.py's ETA)."""
        return self.page_size * self.http.requests_per_minute * 60.0 / self.http.window

    def pull(self, saved: dict[str, Any] | None, full: bool = False) -> Iterator[PulledPage]:
        self.http.reset_stats()
        saved = saved or {}
        if not self.states and saved.get("workflow_states"):
            self.states = {int(key): value for key, value in saved["workflow_states"].items()}
        if self.custom_fields is None and isinstance(saved.get("custom_fields"), dict):
            self.custom_fields = dict(saved["custom_fields"])
        self._fields_refreshed = False
        started = self.clock()
        check_start(self.start, started.timestamp())
        offset = self._utc_offset(saved, started)
        today = local_day(started, offset, latest=True)
        low = self.start
        if saved.get("watermark") and not full:
            low = date.fromisoformat(saved["watermark"][:10])
            if "utc_offset_read" not in saved:
                low -= timedelta(days=1)  # a watermark saved before workspace days were used: a UTC day
        seen: dict[int, str] = {}
        self._days_read = set()  # read by time in this run: a boundary day two windows share
        windows: list[DayWindow] = [(low, None)]  # a stack: oldest window on top
        first = [True]
        while windows:
            window = windows.pop()
            parts = yield from self._window(window, seen, today, offset, first)
            if parts:
                windows.extend(reversed(parts))
                continue
            # The whole window is stored: the next run starts from its last day.
            last = window[1] or max(resume_day(started, offset), window[0] or HISTORY_START)
            yield PulledPage(records=[], checkpoint=self._checkpoint(last.isoformat()))

    def _utc_offset(self, saved: dict[str, Any], started: datetime) -> timedelta | None:
        """The workspace's UTC offset: from the checkpoint when read today, else from GET /member."""
        today = started.astimezone(UTC).date().isoformat()
        if self._workspace.get("utc_offset_read") != today:
            if saved.get("utc_offset_read") == today:
                keys = ("utc_offset", "utc_offset_read", "workspace_created", "workspace_id")
                self._workspace = {k: saved.get(k) for k in keys}
            else:
                member = self.http.get_json(f"{self.http.api_url}/member", None, missing_ok=True)
                workspace = member.get("workspace2") if isinstance(member, dict) else None
                workspace = workspace if isinstance(workspace, dict) else {}
                created = workspace.get("created_at")
                self._workspace = {
                    "utc_offset": workspace.get("utc_offset"),
                    "utc_offset_read": today,
                    "workspace_created": created[:10] if isinstance(created, str) else None,
                    "workspace_id": workspace.get("id") if isinstance(workspace.get("id"), str) else None,
                }
        offset = parse_utc_offset(self._workspace.get("utc_offset"))
        if offset is None:
            log.warning("Shortcut: the workspace's utc_offset is unknown; its days are read widened")
        return offset

    def _window(
        self,
        window: DayWindow,
        seen: dict[int, str],
        today: date,
        offset: timedelta | None,
        first: list[bool],
    ) -> Generator[PulledPage, None, list[DayWindow] | None]:
        """Read one day window; returns its parts instead when it matches more than the cap."""
        low, high = window
        query = self.query
        if low or high:
            query += f" updated:{low.isoformat() if low else '*'}..{high.isoformat() if high else '*'}"
        url: str | None = f"{self.http.api_url}/search/stories"
        params: dict[str, Any] | None = {"query": query, "page_size": self.page_size, "detail": "slim"}
        fetched = 0
        while url:
            body = self.http.get_json(url, params)
            total = int(body.get("total") or 0)
            stories = body.get("data") if isinstance(body.get("data"), list) else []
            page = self._page(stories, seen)
            if first[0]:
                page.total_hint, first[0] = total, False
            if fetched == 0 and total > MAX_RESULTS:
                yield page  # this page's stories are kept; the rest come from the parts
                parts = yield from self._split(low, high, today, total, seen)
                if parts:
                    return parts
                day = low or today
                if day not in self._days_read:
                    self._days_read.add(day)
                    yield from self._by_time(day, total, _story_ids(stories), seen, offset)
                return None
            fetched += len(stories)
            yield page
            next_path = body.get("next")
            if next_path and fetched >= MAX_RESULTS:  # more matches arrived while paging
                failure = (
                    f"Shortcut search '{query}': {total - fetched} stories past the API's"
                    " 1000-result limit were not fetched (they arrived while it was read)"
                )
                yield PulledPage(records=[], failures=[failure])
                return None
            url, params = (next_url(self.http.api_url, next_path), None) if next_path else (None, None)
        return None

    def _split(
        self, low: date | None, high: date | None, today: date, total: int, seen: dict[int, str]
    ) -> Generator[PulledPage, None, list[DayWindow] | None]:
        """The parts of a window over the cap (returned; pages read to find them are yielded).

        From the start of history, the workspace's own days are asked first (one page, kept): its total
        tells the stories dated before the workspace existed (imported ones, usually none) apart. Those
        are split going back from the creation day at the pace the workspace's own days showed (never
        evenly from 2014: those windows would be empty), oldest first, then the own days evenly."""
        created = self._workspace.get("workspace_created")
        try:
            since = date.fromisoformat(created) if low is None and created else None
        except ValueError:
            since = None
        if since is None or since <= HISTORY_START or since > today:
            return split_days(low or HISTORY_START, high, today, total)
        if high is not None and high <= since:  # days before the workspace existed, over the cap again
            return split_back(high, total, self._per_day or 0.0, HISTORY_START)
        query = f"{self.query} updated:{since.isoformat()}..{high.isoformat() if high else '*'}"
        params = {"query": query, "page_size": self.page_size, "detail": "slim"}
        body = self.http.get_json(f"{self.http.api_url}/search/stories", params)
        yield self._page(body.get("data") if isinstance(body.get("data"), list) else [], seen)
        own = int(body.get("total") or 0)
        self._per_day = own / max(1, ((high or today) - since).days)
        before = total - own
        own_parts = (split_days(since, high, today, own) if own > MAX_RESULTS else None) or [(since, high)]
        if before <= 0:
            return own_parts
        back: list[DayWindow] = [(None, since)]
        if before > MAX_RESULTS:
            back = split_back(since, before, self._per_day, HISTORY_START)
        return [*back, *own_parts]

    def _by_time(
        self, day: date, total: int, day_ids: set[int], seen: dict[int, str], offset: timedelta | None
    ) -> Iterator[PulledPage]:
        """Read one workspace day with more than 1000 matches through POST /stories/search, halving its
        time window until each part is under the cap; a failure line says how many stories were not read."""
        filters = date_time_filters(self.query)
        why = "SHORTCUT_QUERY says more than the date-time search can (only type: and is:archived)"
        windows = [day_bounds(day, offset)] if filters is not None else []
        while windows:
            low, high = windows.pop()
            body = {**(filters or {}), "updated_at_start": iso(low), "updated_at_end": iso(high)}
            try:
                answer = self.http.post_json(f"{self.http.api_url}/stories/search", body)
                stories = answer if isinstance(answer, list) else []
                capped = len(stories) >= MAX_RESULTS
            except SearchCapReached:
                stories, capped = [], True
            halves = split_time(low, high) if capped else None
            if halves:
                windows.extend(reversed(halves))  # a capped answer is read again by its halves
                continue
            if capped:
                why = "more than 1000 of them changed within one second"
            day_ids |= _story_ids(stories)
            yield self._page(stories, seen)
        unread = total - len(day_ids)
        if unread > 0:
            failure = (
                f"Shortcut: {unread} of the {total} stories updated on {day.isoformat()} (workspace time)"
                f" could not be read: {why}"
            )
            yield PulledPage(records=[], failures=[failure])

    def _page(self, stories: list[Any], seen: dict[int, str]) -> PulledPage:
        unknown = (
            {s.get("workflow_state_id") for s in stories if isinstance(s, dict)} - set(self.states) - {None}
        )
        if unknown:
            self.refresh_states()
        self._know_fields(set().union(*(custom_field_ids(story) for story in stories)))
        priority_fields = self.priority_fields()
        page = PulledPage(records=[])
        for story in stories:
            try:
                record = story_to_record(story, self.states, priority_fields)
            except UnmappableRecord as exc:
                page.failures.append(str(exc))
                continue
            if seen.get(int(record.record_id)) == record.updated_at:
                continue  # the same story from an overlapping window
            seen[int(record.record_id)] = record.updated_at
            page.records.append(record)
            ticket_ids = zendesk_ticket_ids(record.attributes["external_links"])
            if ticket_ids:
                page.links[record.home_id] = f"ZD-{ticket_ids[0]}"  # lowest id: a deterministic choice
        return page

    # -- what the recheck asks (bot/sync/recheck.py) --------------------------------------------------
    def workspace(self, saved: dict[str, Any] | None) -> tuple[str | None, timedelta | None]:
        """(the token's workspace id, its UTC offset): GET /member at most once a day."""
        offset = self._utc_offset(saved or {}, self.clock())
        return self._workspace.get("workspace_id"), offset

    def _created_query(self, low: date | None, high: date | None) -> str:
        if low is None and high is None:
            return self.query
        return f"{self.query} created:{low.isoformat() if low else '*'}..{high.isoformat() if high else '*'}"

    def count_created(self, low: date | None, high: date | None) -> int:
        """How many stories of SHORTCUT_QUERY were created from `low` to `high` (days, both included, None:
        open): the `total` of one search request for a single result."""
        url = f"{self.http.api_url}/search/stories"
        body = self.http.get_json(
            url, {"query": self._created_query(low, high), "page_size": 1, "detail": "slim"}
        )
        total = body.get("total") if isinstance(body, dict) else None
        return int(total) if isinstance(total, int) else 0

    def list_created(self, low: date | None, high: date | None) -> list[dict[str, Any]] | None:
        """The stories created from `low` to `high`, every page; None when the window is over the cap."""
        url: str | None = f"{self.http.api_url}/search/stories"
        params: dict[str, Any] | None = {
            "query": self._created_query(low, high),
            "page_size": self.page_size,
            "detail": "slim",
        }
        stories: list[dict[str, Any]] = []
        while url:
            try:
                body = self.http.get_json(url, params)
            except SearchCapReached:
                return None
            if int(body.get("total") or 0) > MAX_RESULTS:
                return None
            stories += [s for s in body.get("data") or [] if isinstance(s, dict)]
            next_path = body.get("next")
            url, params = (next_url(self.http.api_url, next_path), None) if next_path else (None, None)
        return stories

    def list_created_at(self, start: datetime | None, end: datetime | None) -> list[dict[str, Any]] | None:
        """The stories created from `start` to `end` (instants, both included; None: open) in one request:
        POST /stories/search by `created_at_start` / `created_at_end`, which answers a plain array (no paging,
        no day reading to settle). None when SHORTCUT_QUERY says more than its filters can, or when the
        answer may be cut short: 1000 stories or more (its cap is unverified: assumed to be search's)."""
        filters = date_time_filters(self.query)
        if filters is None:
            return None
        body: dict[str, Any] = dict(filters)
        if start is not None:
            body["created_at_start"] = iso(start)
        if end is not None:
            body["created_at_end"] = iso(end)
        try:
            answer = self.http.post_json(f"{self.http.api_url}/stories/search", body)
        except SearchCapReached:
            return None
        stories = [s for s in answer if isinstance(s, dict)] if isinstance(answer, list) else []
        return stories if len(stories) < MAX_RESULTS else None

    def records_of(self, stories: list[dict[str, Any]]) -> PulledPage:
        """Stories a listing brought, as records (no auto-links: the pull makes those)."""
        page = self._page(stories, {})
        page.links = {}
        return page

    def recheck(self, story_ids: list[str]) -> tuple[PulledPage, list[str]]:
        """Read each story with GET /stories/{id}: (a page of their current records, the ids that 404).

        Search never returns deleted stories, so the sync rechecks stored stories a few at a time
        (bot/sync/recheck.py); the self-throttle keeps these reads under the rate limit.
        """
        stories, gone = [], []
        for story_id in story_ids:
            story = self.http.get_json(f"{self.http.api_url}/stories/{int(story_id)}", None, missing_ok=True)
            if story is None:
                gone.append(story_id)
            else:
                stories.append(story)
        page = self._page(stories, {})
        page.links = {}  # a recheck only refreshes what is stored; auto-links come from the search
        return page, gone

    def refresh_states(self) -> None:
        """Reload workflow states: {state id: {"name", "type"}} from GET /workflows."""
        workflows = self.http.get_json(f"{self.http.api_url}/workflows", None)
        states: dict[int, dict[str, str]] = {}
        for workflow in workflows if isinstance(workflows, list) else []:
            for state in workflow.get("states") or []:
                if isinstance(state, dict) and isinstance(state.get("id"), int):
                    states[state["id"]] = {"name": str(state.get("name")), "type": str(state.get("type"))}
        self.states = states

    def _know_fields(self, field_ids: set[str]) -> None:
        """List the custom fields when stories name one the cache does not know (once a run at most)."""
        known = self.custom_fields or {}
        if field_ids - set(known) and not self._fields_refreshed:
            self.refresh_custom_fields()

    def refresh_custom_fields(self) -> None:
        """Reload {field id: canonical_name} from GET /custom-fields."""
        fields = self.http.get_json(f"{self.http.api_url}/custom-fields", None)
        self.custom_fields = {
            field["id"]: str(field.get("canonical_name") or "")
            for field in (fields if isinstance(fields, list) else [])
            if isinstance(field, dict) and isinstance(field.get("id"), str)
        }
        self._fields_refreshed = True

    def priority_fields(self) -> frozenset[str]:
        """Ids of the custom fields whose canonical_name is priority (Shortcut's built-in Priority)."""
        return frozenset(key for key, name in (self.custom_fields or {}).items() if name == "priority")

    def _checkpoint(self, watermark: str) -> dict[str, Any]:
        checkpoint: dict[str, Any] = {
            "watermark": watermark,
            "workflow_states": {str(key): value for key, value in self.states.items()},
            **self._workspace,
        }
        if self.custom_fields is not None:
            checkpoint["custom_fields"] = dict(self.custom_fields)
        return checkpoint


def _story_ids(stories: list[Any]) -> set[int]:
    return {story["id"] for story in stories if isinstance(story, dict) and isinstance(story.get("id"), int)}
