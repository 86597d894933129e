"""Shortcut stories updated since the saved watermark, through GET /search/stories.

The search API filters by day (`updated:YYYY-MM-DD..*`), pages by a `next` path (250 a page at most) and
serves only the first 1000 matches of a query. So a pull walks date windows oldest first: a window with more
than 1000 matches is split in two (its first page is kept; duplicates are dropped by id + updated_at), and
the watermark saved after each finished window is that window's last day (the next query overlaps it).

Workflow states (GET /workflows: id -> name and one of the four types) and custom fields (GET /custom-fields:
id -> canonical_name, to find the Priority field) are cached, in memory and in the checkpoint, and listed
again only when a story names one the cache does not know (at most once a run each).
`recheck()` reads given stories one by one (GET /stories/{id}) for the sync's bounded check of stories
search cannot report: deleted ones (404) and archived ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from adapters.pull import PulledPage, UnmappableRecord
from adapters.shortcut import custom_field_ids, story_to_record, zendesk_ticket_ids
from adapters.shortcut_http import ShortcutHttp

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 250
MAX_RESULTS = 1000  # the search API's limit per query
HISTORY_START = date(2014, 1, 1)  # before Shortcut (then Clubhouse) existed: the lower bound to split from


class ShortcutPull:
    name = "shortcut"
    meta_key = "sync:shortcut"

    def __init__(
        self, http: ShortcutHttp, query: str, start: date | None = None, page_size: int = MAX_PAGE_SIZE
    ):
        self.http = http
        self.query = query
        self.start = start
        self.page_size = page_size
        self.states: dict[int, dict[str, str]] = {}
        self.custom_fields: dict[str, str] | None = None  # field id -> canonical_name ("" when none)
        self._fields_refreshed = False  # listed in this run already

    @property
    def stats(self) -> Any:
        return self.http.stats

    def pull(self, saved: dict[str, Any] | None, full: bool = False) -> Iterator[PulledPage]:
        self.http.reset_stats()
        saved = saved or {}
        if not self.states and saved.get("workflow_states"):
            self.states = {int(key): value for key, value in saved["workflow_states"].items()}
        if self.custom_fields is None and isinstance(saved.get("custom_fields"), dict):
            self.custom_fields = dict(saved["custom_fields"])
        self._fields_refreshed = False
        today = datetime.now(UTC).date()
        low = self.start
        if saved.get("watermark") and not full:
            low = date.fromisoformat(saved["watermark"][:10])
        seen: dict[int, str] = {}
        windows: list[tuple[date | None, date | None]] = [(low, None)]  # a stack: oldest window on top
        first = True
        while windows:
            window_low, window_high = windows.pop()
            for page, total in self._window(window_low, window_high, seen, today):
                if first:
                    page.total_hint, first = total, False
                if total > MAX_RESULTS and (window_low or HISTORY_START) < (window_high or today):
                    yield page  # this page's stories are kept; the rest come from the two halves
                    windows.extend(reversed(_halves(window_low or HISTORY_START, window_high or today)))
                    break
                yield page
            else:
                # The whole window is stored: the next run starts from its last day.
                watermark = (window_high or today).isoformat()
                yield PulledPage(records=[], checkpoint=self._checkpoint(watermark))

    def _window(
        self, low: date | None, high: date | None, seen: dict[int, str], today: date
    ) -> Iterator[tuple[PulledPage, int]]:
        query = self.query
        if low or high:
            query += f" updated:{low.isoformat() if low else '*'}..{high.isoformat() if high else '*'}"
        url, params = (
            f"{self.http.api_url}/search/stories",
            {"query": query, "page_size": self.page_size, "detail": "slim"},
        )
        fetched = 0
        while url:
            body = self.http.get_json(url, params)
            total = int(body.get("total") or 0)
            stories = body.get("data") if isinstance(body.get("data"), list) else []
            fetched += len(stories)
            yield self._page(stories, seen), total
            next_path = body.get("next")
            if next_path and fetched >= MAX_RESULTS:
                yield (
                    PulledPage(
                        records=[],
                        failures=[
                            f"Shortcut search '{query}': {total - fetched} stories past the API's"
                            " 1000-result limit were not fetched"
                        ],
                    ),
                    total,
                )
                return
            url, params = (urljoin(self.http.api_url + "/", next_path), None) if next_path else (None, None)

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

    def recheck(self, story_ids: list[str]) -> tuple[PulledPage, list[str]]:
        """Read each story with GET /stories/{id}: (a page of their current records, the ids that 404).

        Search never returns deleted stories (and archived ones only when asked), so the sync rechecks
        stored stories a few at a time; the self-throttle keeps these reads under the rate limit.
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
        }
        if self.custom_fields is not None:
            checkpoint["custom_fields"] = dict(self.custom_fields)
        return checkpoint


def _halves(low: date, high: date) -> list[tuple[date, date]]:
    middle = low + timedelta(days=(high - low).days // 2)
    return [(low, middle), (middle + timedelta(days=1), high)]
