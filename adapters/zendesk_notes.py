"""Internal notes on Zendesk tickets through zenpy: add one (PUT /api/v2/tickets/{id}.json with a
`comment` whose `public` is false) and look for one by a marker in the ticket's comments
(GET /api/v2/tickets/{id}/comments.json, paged), which is how an unknown outcome is settled.

A note is never public: the comment is built here with `public: False` and nothing else can set it. The API
user must be an agent whose role may edit the ticket (docs/impact.md). Zendesk refuses any update of a
closed ticket (422): such a ticket is told as NoteRefused, never retried.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import requests

from adapters.zendesk_create import MESSAGE_LIMIT, _reason

NOTES_RATELIMIT_BUDGET = 30  # seconds one call may wait on 429s (the notes worker is not a listener)


class NoteRefused(Exception):
    """Zendesk said no (closed ticket, no such ticket, no permission): sending it again will not help."""


class NoteUnknown(Exception):
    """No clear answer (a timeout, a 5xx, a 429 past the budget): the note may or may not be there."""


class ZendeskNotes:
    def __init__(self, client: Any, ratelimit_budget: float = NOTES_RATELIMIT_BUDGET) -> None:
        self.client = client  # a zenpy client of its own (bot/bootstrap.py, adapters.zendesk_pull)
        self.ratelimit_budget = ratelimit_budget

    def add_internal_note(self, ticket_id: int, text: str) -> None:
        from zenpy.lib.api_objects import Comment, Ticket

        note = Comment(html_body=_html(text), public=False)
        self._call(lambda: self.client.tickets.update(Ticket(id=int(ticket_id), comment=note)))

    def has_note(self, ticket_id: int, marker: str) -> bool:
        """Whether a comment of the ticket holds marker (every page read)."""

        def find() -> bool:
            for comment in self.client.tickets.comments(ticket=int(ticket_id)):
                found = comment.to_dict() if hasattr(comment, "to_dict") else dict(comment)
                texts = (found.get("plain_body"), found.get("body"), found.get("html_body"))
                if any(marker in str(text) for text in texts if text):
                    return True
            return False

        return bool(self._call(find))

    def _call(self, action: Callable[[], Any]) -> Any:
        from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, ZenpyException

        self.client.tickets.ratelimit_budget = self.ratelimit_budget
        try:
            return action()
        except RatelimitBudgetExceeded:
            raise NoteUnknown("Zendesk's rate limit (HTTP 429) past the budget") from None
        except (APIException, requests.HTTPError) as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None) or 0
            if status >= 500 or status in (0, 409, 429):
                raise NoteUnknown(f"Zendesk answered HTTP {status or '?'}") from None
            raise NoteRefused(f"Zendesk refused it (HTTP {status}): {_reason(exc)}") from None
        except requests.RequestException as exc:
            raise NoteUnknown(f"Zendesk did not answer: {type(exc).__name__}") from None
        except ZenpyException as exc:
            raise NoteUnknown(f"Zendesk call failed: {str(exc)[:MESSAGE_LIMIT]}") from None


def _html(text: str) -> str:
    """Plain text as html_body (Zendesk strips tag-like text from `body`): every character kept."""
    return "<p>" + html.escape(text, quote=False).replace("\n", "<br>\n") + "</p>"
