"""Creating a Zendesk ticket from a report through zenpy (POST /api/v2/tickets.json), finding it again by
its creation key (GET /api/v2/tickets.json?external_id=…), and reading one ticket by id (a link to a
ticket no pull has stored yet: GET /api/v2/tickets/{id}.json).

The report's permalink goes in the first comment. That comment is public when the API user is the
requester, and internal when a requester's email is given (a customer is not sent a Slack link). It is sent
as `html_body` of escaped text: Zendesk strips anything that looks like HTML from a comment's `body`, so a
report quoting `<div>` or `List<String>` would lose words.

The 429 budget (CREATE_RATELIMIT_BUDGET seconds) is fixed at construction and holds for every call, the
look-ups and reads as much as the create (zenpy's counter is spent as it waits, so each call starts with it
whole): no call from a listener or the console waits on a 429 for longer.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any

import requests

from adapters.create import DESCRIPTION_LIMIT, TITLE_LIMIT, CreateRefused, CreateUnknown, TicketDraft
from adapters.pull import UpstreamError
from adapters.zendesk import ticket_to_record
from storage.model import BugRecord

log = logging.getLogger(__name__)

TICKET_TYPES = ("problem", "incident")
PRIORITIES = {"Critical": "urgent", "High": "high", "Medium": "normal", "Low": "low"}
CREATE_RATELIMIT_BUDGET = 5  # seconds a create may wait on a 429 before it says so
WRITE_HINT = (
    "the Zendesk user cannot create tickets: ZENDESK_EMAIL must be an agent or admin whose role may"
    " create tickets"
)
READ_HINT = (
    "the Zendesk user may not see that ticket: ZENDESK_EMAIL must be an agent whose role and groups"
    " can view it"
)
MESSAGE_LIMIT = 160
NOT_DONE = "nothing was created"


def html_text(text: str) -> str:
    """Plain text as Zendesk `html_body`: every character kept (escaped), line breaks kept."""
    return "<p>" + html.escape(text, quote=False).replace("\n", "<br>\n") + "</p>"


def _reason(exc: Exception) -> str:
    """Zendesk's own reason for a refusal ({"description", "details": {field: [{"description"}]}})."""
    response = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return "no reason given"
    details = body.get("details")
    if not isinstance(details, dict):
        details = {}
    lines = [
        str(item.get("description"))
        for items in details.values()
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and item.get("description")
    ]
    text = "; ".join(lines) or str(body.get("description") or body.get("error") or "no reason given")
    return " ".join(text.split())[:MESSAGE_LIMIT]


class ZendeskCreate:
    name = "zendesk"

    def __init__(
        self, client: Any, subdomain: str, ratelimit_budget: float = CREATE_RATELIMIT_BUDGET
    ) -> None:
        self.client = client  # a zenpy client of its own (its 429 budget is not the pull's)
        self.subdomain = subdomain
        self.ratelimit_budget = ratelimit_budget  # every call's: zenpy spends its counter as it waits

    def create(self, draft: TicketDraft, key: str) -> BugRecord:
        from zenpy.lib.api_objects import Comment, Ticket, User

        if draft.ticket_type not in TICKET_TYPES:
            raise CreateRefused(f"a Zendesk ticket's type is {' or '.join(TICKET_TYPES)}")
        body = draft.description[:DESCRIPTION_LIMIT]
        if draft.permalink and draft.permalink not in body:
            body += f"\n\nReported in Slack: {draft.permalink}"
        ticket = Ticket(
            subject=draft.title[:TITLE_LIMIT] or "Bug reported in Slack",
            comment=Comment(html_body=html_text(body), public=draft.requester_email is None),
            type=draft.ticket_type,
            external_id=key,
        )
        if draft.priority:
            ticket.priority = PRIORITIES[draft.priority]
        if draft.requester_email:
            ticket.requester = User(email=draft.requester_email, name=draft.requester_email.split("@")[0])
        audit = self._call(lambda: self.client.tickets.create(ticket), creating=True)
        return self._record(audit.ticket.to_dict())

    def find(self, key: str, permalink: str | None = None) -> BugRecord | None:
        found = self._call(lambda: list(self.client.tickets(external_id=key)))
        return self._record(found[0].to_dict()) if found else None

    def fetch(self, item_id: int) -> BugRecord | None:
        """GET /tickets/{id}: its record, or None when Zendesk has no such ticket (404)."""
        ticket = self._call(lambda: self.client.tickets(id=int(item_id)), missing_ok=True)
        return None if ticket is None else self._record(ticket.to_dict())

    def _record(self, ticket: dict[str, Any]) -> BugRecord:
        return ticket_to_record(ticket, {}, self.subdomain)

    def _call(self, action: Callable[[], Any], creating: bool = False, missing_ok: bool = False) -> Any:
        """One zenpy call; its failures as one line. Creating: a refusal is CreateRefused, no clear answer
        (a timeout, a 5xx) CreateUnknown. Reading: UpstreamError; with missing_ok a 404 answers None."""
        from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, ZenpyException

        refused = CreateRefused if creating else UpstreamError
        unknown = CreateUnknown if creating else UpstreamError
        # zenpy counts its budget down across calls: each call (create, find, fetch) gets the whole one,
        # so none waits on a 429 longer than a person can (the listener, the console).
        self.client.tickets.ratelimit_budget = self.ratelimit_budget
        try:
            return action()
        except RatelimitBudgetExceeded:
            raise refused(f"Zendesk's rate limit (HTTP 429): {NOT_DONE}; try again in a minute") from None
        except (APIException, requests.HTTPError) as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None) or 0
            if status == 404 and missing_ok:
                return None
            if status == 401:
                raise refused(
                    "Zendesk refused the credentials (HTTP 401); check ZENDESK_EMAIL / ZENDESK_API_TOKEN"
                ) from None
            if status == 403:
                raise refused(f"Zendesk answered HTTP 403: {WRITE_HINT if creating else READ_HINT}") from None
            if status == 429:
                raise refused(f"Zendesk's rate limit (HTTP 429): {NOT_DONE}; try again in a minute") from None
            if status >= 500 or status == 0:
                raise unknown(f"Zendesk answered HTTP {status or '?'}; try again in a minute") from None
            raise refused(f"Zendesk refused it (HTTP {status}): {_reason(exc)}") from None
        except requests.RequestException as exc:
            raise unknown(f"Zendesk did not answer: {type(exc).__name__}") from None
        except ZenpyException as exc:
            raise unknown(f"Zendesk call failed: {str(exc)[:MESSAGE_LIMIT]}") from None
