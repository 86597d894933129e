"""A local fake Zendesk: the cursor-based incremental ticket export in the real wire shape.

GET /api/v2/incremental/tickets/cursor.json?start_time=<unix>|cursor=<c>[&include=users][&per_page=<n>]
answers {tickets, users?, after_url, after_cursor, before_url, before_cursor, end_of_stream}, ordered by
(generated_timestamp, id) as Zendesk orders it. `after_url` is what Zendesk returns: this server's own URL
with `?cursor=<after_cursor>` and the query's `per_page` (as zenpy's recorded responses show), not `include`,
so pages after the first come without sideloaded users (zenpy itself drops per_page when resuming from a
saved cursor). Every ticket carries
`generated_timestamp`; `touch()` moves it with `updated_at` (a change that makes a ticket event),
`system_update()` moves only `generated_timestamp` (a trigger / automation changing the status).
GET /api/v2/users/show_many.json?ids=1,2 (at most 100 ids) answers {users, next_page, previous_page, count}.
Basic auth `<email>/token:<token>` is checked; `admin=False` makes the export answer 403 as Zendesk does for
an agent's token. Faults (429 + Retry-After, 5xx) are injected with `inject()`.
"""

from __future__ import annotations

import base64
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes.json_http import JsonServer

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
SHOW_MANY_PATH = "/api/v2/users/show_many.json"
SHOW_MANY_LIMIT = 100  # ids per show_many request
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("urgent", "high", "normal", "low", None)
BASE_EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode(key: tuple[int, int]) -> str:
    return base64.urlsafe_b64encode(f"{key[0]}:{key[1]}".encode()).decode()


def _decode(cursor: str) -> tuple[int, int]:
    epoch, ticket_id = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
    return int(epoch), int(ticket_id)


class FakeZendesk(JsonServer):
    def __init__(self, subdomain: str = "acme", email: str = "bot@example.com", token: str = "zd-test-token"):
        super().__init__()
        self.subdomain, self.email, self.token = subdomain, email, token
        self.tickets: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self._clock = BASE_EPOCH
        self._clock_lock = threading.Lock()
        self.pages_served = 0
        self.admin = True  # False: the token is an agent's, and the export answers 403

    # -- data --------------------------------------------------------------------------------------
    def _tick(self) -> int:
        with self._clock_lock:
            self._clock += 1
            return self._clock

    def add_user(self, user_id: int, name: str | None = None) -> None:
        self.users[user_id] = {
            "id": user_id,
            "url": f"https://{self.subdomain}.zendesk.com/api/v2/users/{user_id}.json",
            "name": name or f"User {user_id}",
            "email": f"user{user_id}@example.com",
            "role": "end-user" if user_id % 2 else "agent",
            "active": True,
            "created_at": iso(BASE_EPOCH),
            "updated_at": iso(BASE_EPOCH),
        }

    def add_ticket(self, ticket_id: int, **fields: Any) -> dict[str, Any]:
        epoch = self._tick()
        requester, assignee = 1000 + ticket_id % 50, 2000 + ticket_id % 7
        for user_id in (requester, assignee):
            if user_id not in self.users:
                self.add_user(user_id)
        ticket = {
            "url": f"https://{self.subdomain}.zendesk.com/api/v2/tickets/{ticket_id}.json",
            "id": ticket_id,
            "external_id": None,
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": iso(epoch),
            "updated_at": iso(epoch),
            "generated_timestamp": epoch,
            "type": "incident",
            "subject": f"Checkout fails #{ticket_id}",
            "raw_subject": f"Checkout fails #{ticket_id}",
            "description": "Customer cannot pay.",
            "priority": PRIORITIES[ticket_id % len(PRIORITIES)],
            "status": STATUSES[ticket_id % len(STATUSES)],
            "recipient": None,
            "requester_id": requester,
            "submitter_id": requester,
            "assignee_id": assignee,
            "organization_id": None,
            "group_id": 360000000001,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": None,
            "problem_id": None,
            "has_incidents": False,
            "is_public": True,
            "due_at": None,
            "tags": ["checkout", "web"],
            "custom_fields": [],
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "custom_status_id": 1,
            "fields": [],
            "followup_ids": [],
            "ticket_form_id": 1,
            "brand_id": 1,
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
        }
        ticket.update(fields)
        self.tickets[ticket_id] = ticket
        return ticket

    def add_tickets(self, count: int, first_id: int = 1) -> None:
        for ticket_id in range(first_id, first_id + count):
            self.add_ticket(ticket_id)

    def touch(self, ticket_id: int, **fields: Any) -> None:
        """Change a ticket upstream, now: it moves to the end of the export order."""
        with self._clock_lock:
            self._clock = max(self._clock + 1, int(time.time()))
            epoch = self._clock
        self.tickets[ticket_id].update(fields, updated_at=iso(epoch), generated_timestamp=epoch)

    def system_update(self, ticket_id: int, **fields: Any) -> None:
        """A change that makes no ticket event (a trigger, an automation): only generated_timestamp moves."""
        with self._clock_lock:
            self._clock = max(self._clock + 1, int(time.time()))
            epoch = self._clock
        self.tickets[ticket_id].update(fields, generated_timestamp=epoch)

    # -- the export --------------------------------------------------------------------------------
    def route(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any
    ) -> tuple[int, Any, dict]:
        expected = "Basic " + base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {"error": "Couldn't authenticate you"}, {}
        if method == "GET" and path == SHOW_MANY_PATH:
            return self._show_many(query)
        if method != "GET" or path != EXPORT_PATH:
            return 404, {"error": "InvalidEndpoint", "description": "Not found"}, {}
        if not self.admin:
            description = "You do not have access to this page. Please contact the account owner."
            return 403, {"error": "Forbidden", "description": description}, {}
        per_page = min(int(query.get("per_page", ["1000"])[0]), 1000)
        if "cursor" in query:
            after = _decode(query["cursor"][0])
        elif "start_time" in query:
            after = (int(query["start_time"][0]) - 1, 2**62)
        else:
            return 400, {"error": "InvalidPaginationParameter", "description": "start_time or cursor"}, {}
        with self.lock:
            ordered = sorted(((t["generated_timestamp"], t["id"]), t) for t in self.tickets.values())
            remaining = [ticket for key, ticket in ordered if key > after]
            page = [dict(ticket) for ticket in remaining[:per_page]]
            self.pages_served += 1
        last = (page[-1]["generated_timestamp"], page[-1]["id"]) if page else after
        cursor = _encode(last)
        after = {"cursor": cursor, **({"per_page": query["per_page"][0]} if "per_page" in query else {})}
        body = {
            "tickets": page,
            # As Zendesk returns it: the cursor and the per_page asked for (no include).
            "after_url": f"{self.base_url}{EXPORT_PATH}?{urlencode(after)}",
            "after_cursor": cursor,
            "before_url": None,
            "before_cursor": None,
            "end_of_stream": len(remaining) <= per_page,
        }
        if "users" in query.get("include", [""])[0]:
            wanted = {t.get("requester_id") for t in page} | {t.get("assignee_id") for t in page}
            body["users"] = [
                self.users[user_id] for user_id in sorted(wanted - {None}) if user_id in self.users
            ]
        return 200, body, {}

    def _show_many(self, query: dict[str, list[str]]) -> tuple[int, Any, dict]:
        try:
            ids = [int(text) for text in query.get("ids", [""])[0].split(",") if text]
        except ValueError:
            return 400, {"error": "InvalidValue", "description": "ids must be integers"}, {}
        if len(ids) > SHOW_MANY_LIMIT:
            return 400, {"error": "TooManyValues", "description": "at most 100 ids"}, {}
        users = [self.users[user_id] for user_id in ids if user_id in self.users]  # unknown ids: left out
        return 200, {"users": users, "next_page": None, "previous_page": None, "count": len(users)}, {}


def point_zenpy_at(fake: FakeZendesk, monkeypatch: Any) -> None:
    """Redirect zenpy (this process) to the fake: the environment variables zenpy itself reads."""
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", fake.netloc)


def zendesk_config(fake: FakeZendesk) -> Any:
    from bot.config import ZendeskConfig

    return ZendeskConfig(subdomain=fake.subdomain, email=fake.email, api_token=fake.token)


def zendesk_pull(fake: FakeZendesk, monkeypatch: Any, per_page: int = 1000, budget: int = 30) -> Any:
    """A ZendeskPull with real zenpy against the fake, with quick 5xx backoff."""
    from adapters.zendesk_pull import ZendeskPull, build_zendesk_client

    point_zenpy_at(fake, monkeypatch)
    client = build_zendesk_client(zendesk_config(fake), backoff_factor=0.01, timeout=10)
    return ZendeskPull(client, fake.subdomain, per_page=per_page, ratelimit_budget=budget)
