"""Zendesk's cursor-based incremental ticket export through zenpy, one page at a time.

Each page is one GET through zenpy's session (which retries 5xx and connection errors with backoff, urllib3
Retry, and waits out every 429 — the export's, users/show_many's, custom_statuses' — within one rate-limit
budget a run, counted in `rate_limit_wait`, adapters/rate_budget.py). We ask for each page ourselves rather
than follow `after_url`: the real `after_url` keeps the cursor and `per_page` but is not documented to keep
`include`, and zenpy drops `per_page` when resuming from a saved cursor. So every page asks
`cursor=<after_cursor>&include=users&per_page=<n>` and brings its own requesters and assignees; the few a
sideload lacks (a deleted user) are looked up with `users/show_many` (100 ids a request), cached for the run.
The sync saves the export cursor after each page's records are written: an interrupted run resumes from the
last saved page. A saved cursor Zendesk rejects (400 / 422: expired, or from another account) is not a dead
end: the run starts again from `start_time` = the newest `generated_timestamp` already stored (kept in the
checkpoint as `resume_time`), re-reading at most that second's tickets, which the store finds unchanged.
A SYNC_START in the future (Zendesk refuses a start_time less than a minute old) stops the run with one line
naming SYNC_START before anything is asked.
Custom ticket statuses: a ticket whose `custom_status_id` names a status that is not one of the built-in
defaults stores that status's agent label as its state and its `status_category` as the state type; the
statuses are listed with GET /api/v2/custom_statuses (cached, listed again once a run at most, when a ticket
names one the cache does not know).
The export is admin-only: a 403 stops the run with one line saying ZENDESK_EMAIL must be an admin.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import requests

from adapters.http_session import retrying_session
from adapters.pull import PulledPage, PullStats, RateLimited, UnmappableRecord, UpstreamError, check_start
from adapters.rate_budget import RateBudget, spend_on_429s
from adapters.zendesk import (
    MERGED_INTO,
    MERGED_STATE,
    index_custom_statuses,
    index_users,
    merge_target,
    ticket_to_record,
    user_ids,
)

log = logging.getLogger(__name__)

MAX_PER_PAGE = 1000  # the export's largest page
DEFAULT_RATELIMIT_BUDGET = 300  # seconds a run may spend waiting on 429s before it stops
EXPORT_REQUESTS_PER_MINUTE = 10  # Zendesk's limit on the incremental export (30 with the high-volume add-on)
SHOW_MANY_LIMIT = 100  # ids per users/show_many request (Zendesk's limit)
ADMIN_HINT = "the Zendesk incremental export needs an admin's API token: ZENDESK_EMAIL must be an admin"
EXPORT_PATH = "incremental/tickets/cursor.json"


class CursorRejected(UpstreamError):
    """Zendesk refused the saved export cursor (400 / 422): the pull starts again from a time."""


def build_zendesk_client(
    config: Any,
    backoff_factor: float = 1.0,
    timeout: float = 60.0,
    ratelimit_budget: float | None = None,
) -> Any:
    """A zenpy client over a retrying session: the one place a Zendesk client is built (the pull, the
    creates and anything else that talks to Zendesk). `ratelimit_budget`: the seconds zenpy may sleep on
    429s before it raises RatelimitBudgetExceeded, fixed here for the client's life (None: zenpy's own, no
    limit). ZENPY_FORCE_SCHEME / _NETLOC redirect it (tests, bench)."""
    from zenpy import Zenpy

    return Zenpy(
        subdomain=config.subdomain,
        email=config.email,
        token=config.api_token,
        session=retrying_session(backoff_factor=backoff_factor),
        timeout=timeout,
        ratelimit_budget=ratelimit_budget,
        disable_cache=True,  # ZendeskPull keeps its own per-run cache of the few user fields it needs
    )


def start_epoch(start: date | None) -> int:
    return 0 if start is None else int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())


class ZendeskPull:
    name = "zendesk"
    meta_key = "sync:zendesk"

    def __init__(
        self,
        client: Any,
        subdomain: str,
        start: date | None = None,
        per_page: int = MAX_PER_PAGE,
        ratelimit_budget: float = DEFAULT_RATELIMIT_BUDGET,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.clock = clock
        self.subdomain = subdomain
        self.start = start
        self.per_page = per_page
        self.ratelimit_budget = ratelimit_budget
        self.budget = RateBudget(ratelimit_budget, "Zendesk", "the saved cursor")
        spend_on_429s(client.tickets.session, self.budget)  # one session for every zenpy API
        self._users: dict[int, dict[str, Any]] = {}  # this run's users: sideloaded or looked up
        self.custom_statuses: dict[int, dict[str, Any]] | None = None  # id -> agent_label, category, default
        self._statuses_listed = False  # in this run

    @property
    def stats(self) -> PullStats:
        return self.budget.stats

    def set_ratelimit_budget(self, seconds: float) -> None:
        """How long a run may wait on rate limits (math.inf: as long as they say; `--until-done`)."""
        self.ratelimit_budget = self.budget.seconds = seconds

    @property
    def items_per_minute_at_limit(self) -> int:
        """The fastest a backfill can go: full pages at the export's limit (bot/sync/backfill.py's ETA)."""
        return self.per_page * EXPORT_REQUESTS_PER_MINUTE

    def pull(self, saved: dict[str, Any] | None, full: bool = False) -> Iterator[PulledPage]:
        """Pages from the saved cursor (or from SYNC_START on the first run or with full=True)."""
        self.budget.reset()
        self._users = {}
        self._statuses_listed = False
        saved = saved if saved and not full else {}
        cursor = saved.get("cursor")
        resume_time = saved.get("resume_time")
        if cursor:
            start_time = saved.get("start_time")
        else:
            check_start(self.start, self.clock())
            start_time = start_epoch(self.start)
        while True:
            try:
                page_json = self._export(cursor, start_time)
            except CursorRejected as exc:
                if not cursor:
                    raise
                start_time = resume_time if isinstance(resume_time, int) else start_epoch(self.start)
                log.warning("Zendesk: %s; the export starts again from %s", exc, start_time)
                cursor = None
                continue
            page = self._page(page_json, start_time, resume_time)
            resume_time = (page.checkpoint or {}).get("resume_time", resume_time)
            yield page
            cursor = page_json.get("after_cursor")
            if page_json.get("end_of_stream") or not cursor:
                return

    def _export(self, cursor: str | None, start_time: Any) -> dict[str, Any]:
        """One page of the export, sideloaded users included: `cursor=` (or `start_time=` to begin)."""
        from zenpy.lib.exception import APIException

        api = self.client.tickets
        scheme = os.environ.get("ZENPY_FORCE_SCHEME", api.protocol)
        url = f"{scheme}://{api.base_url}/{api.api_prefix}/{EXPORT_PATH}"
        params: dict[str, Any] = {"include": "users", "per_page": self.per_page}
        params.update({"cursor": cursor} if cursor else {"start_time": start_time})

        def fetch() -> Any:
            try:
                return api._get(url, raw_response=True, params=params).json()
            except APIException as exc:
                status = getattr(getattr(exc, "response", None), "status_code", None)
                if cursor and status in (400, 422):
                    raise CursorRejected(f"Zendesk refused the saved export cursor (HTTP {status})") from None
                raise

        try:
            body = self._call(fetch)
        except ValueError:
            raise UpstreamError("Zendesk's export answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise UpstreamError("Zendesk's export page is not an object; the run stops at the saved cursor")
        return body

    def estimate_total(self) -> int | None:
        """About how many tickets a backfill brings: GET /api/v2/tickets/count (one general-API request;
        it counts every live ticket, so with SYNC_START it is an upper bound)."""
        api = self.client.tickets  # zenpy has no call for it: its own GET, on its session and base URL
        scheme = os.environ.get("ZENPY_FORCE_SCHEME", api.protocol)
        url = f"{scheme}://{api.base_url}/{api.api_prefix}/tickets/count.json"
        try:
            body = self._call(lambda: api._get(url, raw_response=True).json(), "tickets/count")
        except RateLimited:
            raise
        except (UpstreamError, ValueError) as exc:
            log.warning("Zendesk: could not count the tickets: %s", exc)
            return None
        count = body.get("count") if isinstance(body, dict) else None
        value = count.get("value") if isinstance(count, dict) else None
        return value if isinstance(value, int) else None

    def _params(self) -> dict[str, Any]:
        return {"include": ["users"], "per_page": self.per_page}

    def _page(self, page_json: dict[str, Any], start_time: Any, resume_time: Any) -> PulledPage:
        tickets = page_json.get("tickets")
        if not isinstance(tickets, list):
            raise UpstreamError("Zendesk's export page has no ticket list; the run stops at the saved cursor")
        self._users.update(index_users(page_json.get("users")))
        needed = set().union(*(user_ids(ticket) for ticket in tickets))
        self._look_up_users(sorted(needed - set(self._users)))
        self._know_statuses({t.get("custom_status_id") for t in tickets if isinstance(t, dict)} - {None})
        page = PulledPage(records=[])
        for ticket in tickets:
            try:
                record = ticket_to_record(ticket, self._users, self.subdomain, self.custom_statuses)
            except UnmappableRecord as exc:
                page.failures.append(str(exc))
                continue
            if record.state == MERGED_STATE:  # the report follows the ticket the work moved to
                target = self._merged_into(record.record_id)
                if target is not None and str(target) != record.record_id:
                    page.links[record.home_id] = f"ZD-{target}"
                    # kept on the record, so a card can say where the work went
                    record = replace(record, attributes={**record.attributes, MERGED_INTO: f"ZD-{target}"})
            page.records.append(record)
        stamps = [t.get("generated_timestamp") for t in tickets if isinstance(t, dict)]
        newest = [value for value in stamps if isinstance(value, int) and not isinstance(value, bool)]
        if isinstance(resume_time, int):
            newest.append(resume_time)
        cursor = page_json.get("after_cursor")
        if cursor:
            page.checkpoint = {"cursor": cursor, "start_time": start_time}
            if newest:  # where to start again if this cursor is ever refused
                page.checkpoint["resume_time"] = max(newest)
        return page

    def _merged_into(self, ticket_id: str) -> int | None:
        """The ticket a merged one went into, from its audits (GET /tickets/{id}/audits.json); None when
        they do not say (or cannot be read: the ticket is stored as merged all the same)."""
        api = self.client.tickets
        scheme = os.environ.get("ZENPY_FORCE_SCHEME", api.protocol)
        url = f"{scheme}://{api.base_url}/{api.api_prefix}/tickets/{int(ticket_id)}/audits.json"
        try:
            body = self._call(lambda: api._get(url, raw_response=True).json(), "tickets/{id}/audits")
        except RateLimited:
            raise
        except (UpstreamError, ValueError) as exc:
            log.warning("Zendesk: could not read the audits of merged ticket %s: %s", ticket_id, exc)
            return None
        return merge_target(body.get("audits") if isinstance(body, dict) else None)

    def _look_up_users(self, missing: list[int]) -> None:
        """Names and emails of users the sideload did not bring: users/show_many, 100 ids a request. An id
        Zendesk does not return (a deleted user) is cached as id-only, so it is not asked for again."""
        for start in range(0, len(missing), SHOW_MANY_LIMIT):
            chunk = missing[start : start + SHOW_MANY_LIMIT]

            def show_many(ids: list[int] = chunk) -> list[Any]:
                return list(self.client.users(ids=ids))

            found = self._call(show_many, "users/show_many")
            for user in found:
                self._users[user.id] = {"id": user.id, "name": user.name, "email": user.email}
            for user_id in chunk:
                self._users.setdefault(user_id, {"id": user_id, "name": None, "email": None})

    def _know_statuses(self, status_ids: set[Any]) -> None:
        """List the custom statuses when a ticket names one the cache does not know (once a run at most)."""
        if not status_ids - set(self.custom_statuses or {}) or self._statuses_listed:
            return
        self._statuses_listed = True
        try:
            found = self._call(lambda: list(self.client.custom_statuses()), "custom_statuses")
        except RateLimited:
            raise
        except UpstreamError as exc:  # statuses stay as the export names them (their category)
            log.warning("Zendesk: could not list the custom statuses: %s", exc)
            return
        self.custom_statuses = index_custom_statuses(found)

    def _call(self, fetch: Callable[[], Any], what: str = "the incremental export") -> Any:
        """Run one zenpy call; turn its failures into one UpstreamError line (no URL params, no secrets)."""
        from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, ZenpyException

        try:
            return fetch()
        except RatelimitBudgetExceeded:  # zenpy's own budget: only if a 429 ever reached it
            raise RateLimited(
                f"Zendesk rate limit: more than {self.ratelimit_budget}s spent waiting; stopping, the next"
                " run resumes from the saved cursor"
            ) from None
        except (APIException, requests.HTTPError) as exc:
            status = getattr(getattr(exc, "response", None), "status_code", "?")
            if status == 403:
                raise UpstreamError(f"Zendesk answered HTTP 403 to {what}: {ADMIN_HINT}") from exc
            hint = " (check ZENDESK_EMAIL / ZENDESK_API_TOKEN)" if status == 401 else ""
            raise UpstreamError(f"Zendesk answered HTTP {status} to {what}{hint}") from exc
        except requests.RequestException as exc:
            raise UpstreamError(f"Zendesk cannot be reached: {type(exc).__name__}") from exc
        except ZenpyException as exc:
            raise UpstreamError(f"Zendesk export failed: {exc}") from exc
