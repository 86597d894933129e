"""A local fake Zendesk: the cursor-based incremental ticket export in the real wire shape.

GET /api/v2/incremental/tickets/cursor.json?start_time=<unix>|cursor=<c>[&include=users][&per_page=<n>]
answers {tickets, users?, after_url, after_cursor, before_url, before_cursor, end_of_stream} (422 for a
start_time less than a minute old, and for a cursor it did not make or made before `expire_cursors()`),
ordered by (generated_timestamp, id) as Zendesk orders it. `after_url` is what Zendesk returns: this server's
own URL with `?cursor=<after_cursor>` and the query's `per_page` (as zenpy's recorded responses show), not
`include` (so a client following it gets pages without sideloaded users). Every ticket carries
`generated_timestamp`; `touch()` moves it with `updated_at` (a change that makes a ticket event),
`system_update()` moves only `generated_timestamp` (a trigger / automation changing the status). GET
/api/v2/users/show_many.json?ids=1,2 (at most 100 ids) answers {users, next_page, previous_page, count}.
Creating: POST /api/v2/tickets.json takes {"ticket": {...}} as zenpy sends it (a first `comment` with a body
or html_body is required; as Zendesk, a `body` loses anything that looks like HTML, `<div>` or `List<String>`,
and an `html_body`'s markup is read as HTML; `priority` / `type` / `status` must be Zendesk's values, a
`requester` {email, name} is found or made as a user; 422 RecordInvalid otherwise), answers 201 {ticket,
audit} and exports the ticket from then on. GET /api/v2/tickets.json?external_id=<key> lists the tickets
carrying it; GET /api/v2/tickets/{id}.json answers one ticket or 404 RecordNotFound. `can_create=False`: a
light agent's token (POST answers 403). GET /api/v2/custom_statuses.json answers {custom_statuses}: the five
built-in ones (default: true; every ticket names the one of its status in `custom_status_id`) and any added
with `add_custom_status()`. GET /api/v2/tickets/count.json answers {count: {value, refreshed_at}}. GET
/api/v2/tickets/{id}/audits.json answers {audits}; `merge(source, target)` closes a ticket as Zendesk's merge
does (tag closed_by_merge) with an audit naming the target. `rate_limits={"export": (10, 60.0), "api": (700,
60.0)}` enforces Zendesk's limits (the incremental export's 10 a minute, the plan's general limit for the
rest): 429 + Retry-After past them (benchmarks scale the minute down; the real Retry-After is whole seconds).
Basic auth `<email>/token:<token>` is checked; `admin=False` makes the export answer 403 as Zendesk does for
an agent's token. Faults (429 + Retry-After, 5xx) are injected with `inject()`."""

from __future__ import annotations

import base64
import html
import json
import math
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes.json_http import JsonServer
from tests.fakes.rate_window import RateWindow

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
SHOW_MANY_PATH = "/api/v2/users/show_many.json"
TICKETS_PATH = "/api/v2/tickets.json"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TAG_LIKE = re.compile(r"<[^<>]*>")  # what Zendesk strips from a comment body: anything tag-like
_BREAK = re.compile(r"<br\s*/?>\n?|</p>", re.IGNORECASE)
CUSTOM_STATUSES_PATH = "/api/v2/custom_statuses.json"
COUNT_PATH = "/api/v2/tickets/count.json"
_TICKET_PATH = re.compile(r"/api/v2/tickets/([0-9]{1,12})\.json")
_COMMENTS_PATH = re.compile(r"/api/v2/tickets/([0-9]{1,12})/comments\.json")
# the built-in custom statuses: (id, agent label, category); closed tickets keep the solved one
DEFAULT_STATUSES = (
    (1, "New", "new"),
    (2, "Open", "open"),
    (3, "Pending", "pending"),
    (4, "On-hold", "hold"),
    (5, "Solved", "solved"),
)
STATUS_IDS = {"new": 1, "open": 2, "pending": 3, "hold": 4, "solved": 5, "closed": 5}
SHOW_MANY_LIMIT = 100  # ids per show_many request
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("urgent", "high", "normal", "low", None)
BASE_EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode(key: tuple[int, int], generation: int = 0) -> str:
    return base64.urlsafe_b64encode(f"{generation}:{key[0]}:{key[1]}".encode()).decode()


def _decode(cursor: str) -> tuple[int, tuple[int, int]] | None:
    """(the cursor's generation, its (epoch, id)); None for a cursor this server never made."""
    try:
        generation, epoch, ticket_id = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        return int(generation), (int(epoch), int(ticket_id))
    except ValueError:
        return None


class FakeZendesk(JsonServer):
    def __init__(
        self,
        subdomain: str = "acme",
        email: str = "bot@example.com",
        token: str = "zd-test-token",
        rate_limits: dict[str, tuple[int, float]] | None = None,
    ):
        super().__init__()
        self.limiters = {name: RateWindow(*limit) for name, limit in (rate_limits or {}).items()}
        self.custom_statuses = [_custom_status(*status, default=True) for status in DEFAULT_STATUSES]
        self.subdomain, self.email, self.token = subdomain, email, token
        self.tickets: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}  # the first comment of tickets made by POST
        self._clock = BASE_EPOCH
        self._clock_lock = threading.Lock()
        self.pages_served = 0
        self.admin = True  # False: the token is an agent's, and the export answers 403
        self.can_create = True  # False: the user's role may not create tickets (POST answers 403)
        self.next_id = 5001  # the id of the next ticket created through the API
        self.api_user_id = 2999  # the token's own user: the requester when none is given
        self.cursor_generation = 0  # cursors made before expire_cursors() are refused
        self.audits: dict[int, list[dict[str, Any]]] = {}  # ticket id -> its audits (merges: merge())

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
            "custom_status_id": STATUS_IDS[STATUSES[ticket_id % len(STATUSES)]],
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

    def add_custom_status(self, status_id: int, agent_label: str, category: str) -> None:
        self.custom_statuses.append(_custom_status(status_id, agent_label, category, default=False))

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

    def merge(self, source_id: int, target_id: int) -> None:
        """An agent merges ticket `source_id` into `target_id`: the source is closed and tagged
        `closed_by_merge`, and its audit names the target (a comment saying so, `via.source.rel` "merge")."""
        self.touch(source_id, status="closed", tags=[*self.tickets[source_id]["tags"], "closed_by_merge"])
        ticket = self.tickets[source_id]
        subject = self.tickets[target_id]["subject"]
        comment = f'This request was closed and merged into request #{target_id} "{subject}".'
        via = {"channel": "web", "source": {"rel": "merge", "from": {}, "to": {"ticket_id": target_id}}}
        self.audits.setdefault(source_id, []).append(
            {
                "id": source_id * 100 + len(self.audits.get(source_id, [])),
                "ticket_id": source_id,
                "created_at": ticket["updated_at"],
                "author_id": self.api_user_id,
                "via": via,
                "events": [
                    {"id": 1, "type": "Comment", "body": comment, "public": False, "via": via},
                    {"id": 2, "type": "Change", "field_name": "status", "value": "closed", "via": via},
                ],
            }
        )

    def expire_cursors(self) -> None:
        """Every cursor handed out so far is refused from now on (an expired or foreign cursor)."""
        self.cursor_generation += 1

    # -- the export --------------------------------------------------------------------------------
    def route(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any
    ) -> tuple[int, Any, dict]:
        expected = "Basic " + base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {"error": "Couldn't authenticate you"}, {}
        limiter = self.limiters.get("export" if path == EXPORT_PATH else "api")
        if limiter is not None and (wait := limiter.admit()):
            retry_after = f"{wait:.3f}" if limiter.window < 60 else str(math.ceil(wait))
            return 429, {"error": "APIRateLimitExceeded"}, {"Retry-After": retry_after}
        if method == "GET" and path == SHOW_MANY_PATH:
            return self._show_many(query)
        if method == "GET" and path == CUSTOM_STATUSES_PATH:
            return 200, {"custom_statuses": list(self.custom_statuses)}, {}
        if method == "GET" and path == COUNT_PATH:
            live = sum(1 for ticket in self.tickets.values() if ticket["status"] != "deleted")
            return 200, {"count": {"value": live, "refreshed_at": iso(int(time.time()))}}, {}
        if method == "GET" and path == TICKETS_PATH:
            wanted = query.get("external_id", [None])[0]
            with self.lock:
                found = [
                    dict(t) for _, t in sorted(self.tickets.items()) if wanted and t["external_id"] == wanted
                ]
            return 200, {"tickets": found, "next_page": None, "previous_page": None, "count": len(found)}, {}
        if method == "GET" and (found := _COMMENTS_PATH.fullmatch(path)):
            return self._comments(int(found[1]), query)
        if method == "GET" and path.startswith("/api/v2/tickets/") and path.endswith(".json"):
            return self._ticket_or_audits(path)
        if method != "GET" or path != EXPORT_PATH:
            return 404, {"error": "InvalidEndpoint", "description": "Not found"}, {}
        return self._export(query)

    def _ticket_or_audits(self, path: str) -> tuple[int, Any, dict]:
        """GET /api/v2/tickets/{id}.json and /api/v2/tickets/{id}/audits.json."""
        if path.endswith("/audits.json"):
            number = path.removeprefix("/api/v2/tickets/").removesuffix("/audits.json")
            if not number.isdigit() or int(number) not in self.tickets:
                return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
            audits = list(self.audits.get(int(number), []))
            return 200, {"audits": audits, "next_page": None, "previous_page": None, "count": len(audits)}, {}
        number = path.removeprefix("/api/v2/tickets/").removesuffix(".json")
        with self.lock:
            ticket = self.tickets.get(int(number)) if number.isdigit() else None
            if ticket is not None and ticket["status"] != "deleted":
                return 200, {"ticket": dict(ticket)}, {}
        return 404, {"error": "RecordNotFound", "description": "Not found"}, {}

    def _export(self, query: dict[str, list[str]]) -> tuple[int, Any, dict]:
        """GET the incremental ticket export (cursor-based)."""
        if not self.admin:
            description = "You do not have access to this page. Please contact the account owner."
            return 403, {"error": "Forbidden", "description": description}, {}
        per_page = min(int(query.get("per_page", ["1000"])[0]), 1000)
        if "cursor" in query:
            decoded = _decode(query["cursor"][0])
            if decoded is None or decoded[0] != self.cursor_generation:
                return 422, {"error": "InvalidPaginationParameter", "description": "Invalid cursor"}, {}
            after = decoded[1]
        elif "start_time" in query:
            start_time = int(query["start_time"][0])
            if start_time > time.time() - 60:
                description = "Too recent start_time. Use a start_time older than 1 minute"
                return 422, {"error": "InvalidValue", "description": description}, {}
            after = (start_time - 1, 2**62)
        else:
            return 400, {"error": "InvalidPaginationParameter", "description": "start_time or cursor"}, {}
        with self.lock:
            ordered = sorted(((t["generated_timestamp"], t["id"]), t) for t in self.tickets.values())
            remaining = [ticket for key, ticket in ordered if key > after]
            page = [dict(ticket) for ticket in remaining[:per_page]]
            self.pages_served += 1
        last = (page[-1]["generated_timestamp"], page[-1]["id"]) if page else after
        cursor = _encode(last, self.cursor_generation)
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

    def route_body(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes
    ) -> tuple[int, Any, dict]:
        if method == "PUT":
            return self._update(path, headers, raw)
        if method != "POST":
            return self.route(method, path, query, headers)
        expected = "Basic " + base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {"error": "Couldn't authenticate you"}, {}
        if path != TICKETS_PATH:
            return 404, {"error": "InvalidEndpoint", "description": "Not found"}, {}
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return 400, {"error": "InvalidValue", "description": "the body is not JSON"}, {}
        if not self.can_create:
            return 403, {"error": "Forbidden", "description": "You do not have access to this page."}, {}
        ticket = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(ticket, dict):
            return 400, {"error": "InvalidValue", "description": "ticket is required"}, {}
        details = _invalid(ticket)
        if details:
            return (
                422,
                {"error": "RecordInvalid", "description": "Record validation errors", "details": details},
                {},
            )
        with self.lock:
            ticket_id, self.next_id = self.next_id, self.next_id + 1
            requester = self._requester(ticket.get("requester"))
        comment = dict(ticket["comment"])
        if "html_body" in comment:  # kept as sent; its plain text is the HTML read back
            comment["plain_body"] = html_plain(comment["html_body"])
        else:  # "HTML data is stripped out of the request if you use body"
            comment["body"] = comment["plain_body"] = _TAG_LIKE.sub("", str(comment.get("body")))
        created = self.add_ticket(
            ticket_id,
            subject=ticket.get("subject") or "",
            raw_subject=ticket.get("subject") or "",
            description=comment["plain_body"],
            priority=ticket.get("priority"),
            type=ticket.get("type"),
            status=ticket.get("status") or "new",
            external_id=ticket.get("external_id"),
            requester_id=requester,
            submitter_id=self.api_user_id,
            assignee_id=None,
            tags=list(ticket.get("tags") or []),
        )
        self.comments[ticket_id] = [
            dict(comment, public=comment.get("public", True), author_id=self.api_user_id)
        ]
        self.touch(ticket_id)  # made now: it falls in the next export window
        audit = {
            "id": ticket_id * 10,
            "ticket_id": ticket_id,
            "created_at": created["updated_at"],
            "author_id": self.api_user_id,
            "metadata": {},
            "events": [{"id": ticket_id * 10 + 1, "type": "Comment", "body": comment["plain_body"]}],
        }
        return 201, {"ticket": dict(self.tickets[ticket_id]), "audit": audit}, {}

    def _refused(self, headers: Any) -> tuple[int, Any, dict] | None:
        """401 without the API token's Basic auth, 429 past the API's rate limit; None: go on."""
        expected = "Basic " + base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {"error": "Couldn't authenticate you"}, {}
        limiter = self.limiters.get("api")
        if limiter is not None and (wait := limiter.admit()):
            return 429, {"error": "APIRateLimitExceeded"}, {"Retry-After": str(math.ceil(wait))}
        return None

    def _update(self, path: str, headers: Any, raw: bytes) -> tuple[int, Any, dict]:
        """PUT /api/v2/tickets/{id}.json {"ticket": {"comment": {...}}}: a comment added (public unless
        `public: false`), as Zendesk does; a closed ticket refuses any update (422), an unknown one 404."""
        refused = self._refused(headers)
        if refused is not None:
            return refused
        found = _TICKET_PATH.fullmatch(path)
        if found is None:
            return 404, {"error": "InvalidEndpoint", "description": "Not found"}, {}
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return 400, {"error": "InvalidValue", "description": "the body is not JSON"}, {}
        ticket_id = int(found[1])
        changes = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(changes, dict):
            return 400, {"error": "InvalidValue", "description": "ticket is required"}, {}
        with self.lock:
            ticket = self.tickets.get(ticket_id)
            if ticket is None or ticket["status"] == "deleted":
                return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
            if ticket["status"] == "closed":
                details = {"status": [{"description": "Status: closed prevents ticket update"}]}
                return (
                    422,
                    {"error": "RecordInvalid", "description": "Record validation errors", "details": details},
                    {},
                )
            comment = changes.get("comment")
            if comment is not None:
                if not isinstance(comment, dict) or not (comment.get("body") or comment.get("html_body")):
                    details = {"comment": [{"description": "Comment: cannot be blank"}]}
                    return (
                        422,
                        {
                            "error": "RecordInvalid",
                            "description": "Record validation errors",
                            "details": details,
                        },
                        {},
                    )
                kept = dict(
                    comment, public=comment.get("public", True), author_id=self.api_user_id, type="Comment"
                )
                if "html_body" in kept:
                    kept["plain_body"] = html_plain(kept["html_body"])
                else:
                    kept["body"] = kept["plain_body"] = _TAG_LIKE.sub("", str(kept.get("body")))
                existing = self.comments.setdefault(ticket_id, [])
                kept["id"] = ticket_id * 1000 + len(existing) + 1
                existing.append(kept)
        self.touch(ticket_id)
        return 200, {"ticket": dict(self.tickets[ticket_id]), "audit": {"ticket_id": ticket_id}}, {}

    def _comments(self, ticket_id: int, query: dict[str, list[str]]) -> tuple[int, Any, dict]:
        """GET /api/v2/tickets/{id}/comments.json, 100 a page (offset pages, `next_page` as a URL)."""
        with self.lock:
            ticket = self.tickets.get(ticket_id)
            if ticket is None or ticket["status"] == "deleted":
                return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
            every = [dict(comment) for comment in self.comments.get(ticket_id, [])]
        page = int(query.get("page", ["1"])[0])
        per_page = min(int(query.get("per_page", ["100"])[0]), 100)
        shown = every[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(every)
        path = f"/api/v2/tickets/{ticket_id}/comments.json"
        next_page = (
            f"{self.base_url}{path}?{urlencode({'page': page + 1, 'per_page': per_page})}" if more else None
        )
        return (
            200,
            {"comments": shown, "next_page": next_page, "previous_page": None, "count": len(every)},
            {},
        )

    def internal_notes(self, ticket_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.comments.get(ticket_id, []) if c.get("public") is False]

    def _requester(self, requester: Any) -> int:
        """The requester's user id: the API user, or the user with that email (made when new)."""
        if not isinstance(requester, dict) or not requester.get("email"):
            if self.api_user_id not in self.users:
                self.add_user(self.api_user_id, "Bug Bot")
            return self.api_user_id
        for user in self.users.values():
            if user["email"] == requester["email"]:
                return user["id"]
        user_id = 7000 + len(self.users)
        self.add_user(user_id, requester.get("name"))
        self.users[user_id]["email"] = requester["email"]
        return user_id

    def _show_many(self, query: dict[str, list[str]]) -> tuple[int, Any, dict]:
        try:
            ids = [int(text) for text in query.get("ids", [""])[0].split(",") if text]
        except ValueError:
            return 400, {"error": "InvalidValue", "description": "ids must be integers"}, {}
        if len(ids) > SHOW_MANY_LIMIT:
            return 400, {"error": "TooManyValues", "description": "at most 100 ids"}, {}
        users = [self.users[user_id] for user_id in ids if user_id in self.users]  # unknown ids: left out
        return 200, {"users": users, "next_page": None, "previous_page": None, "count": len(users)}, {}


def _invalid(ticket: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Zendesk's RecordInvalid details for a new ticket, by field (empty: valid)."""
    details: dict[str, list[dict[str, str]]] = {}
    comment = ticket.get("comment")
    if not isinstance(comment, dict) or not (comment.get("body") or comment.get("html_body")):
        details["description"] = [{"description": "Description: cannot be blank", "error": "BlankValue"}]
    for name, allowed in (
        ("priority", ("urgent", "high", "normal", "low")),
        ("type", ("problem", "incident", "question", "task")),
        ("status", ("new", "open", "pending", "hold", "solved")),
    ):
        if ticket.get(name) is not None and ticket[name] not in allowed:
            details[name] = [{"description": f"{name.capitalize()}: is invalid", "error": "InvalidValue"}]
    requester = ticket.get("requester")
    if requester is not None and (
        not isinstance(requester, dict) or not _EMAIL.fullmatch(str(requester.get("email")))
    ):
        details["requester"] = [{"description": "Requester: Email is invalid", "error": "InvalidValue"}]
    return details


def html_plain(markup: str) -> str:
    """An html_body's text as a reader sees it: breaks as new lines, tags gone, entities decoded."""
    return html.unescape(_TAG_LIKE.sub("", _BREAK.sub("\n", markup))).strip()


def _custom_status(status_id: int, agent_label: str, category: str, default: bool) -> dict[str, Any]:
    return {
        "id": status_id,
        "url": f"https://acme.zendesk.com/api/v2/custom_statuses/{status_id}.json",
        "status_category": category,
        "agent_label": agent_label,
        "end_user_label": agent_label,
        "description": "",
        "end_user_description": "",
        "active": True,
        "default": default,
        "created_at": iso(BASE_EPOCH),
        "updated_at": iso(BASE_EPOCH),
    }


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
