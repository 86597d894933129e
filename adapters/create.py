"""What creating upstream needs from both systems: the draft a person confirmed, and the two ways a create
can fail (refused: nothing was made; unknown: it may have been made, look it up by its creation key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from adapters.pull import UpstreamError
from storage.model import BugRecord

TITLE_LIMIT = 512  # Shortcut's CreateStoryParams.name maxLength; Zendesk subjects fit in it too
DESCRIPTION_LIMIT = 20_000  # well under both systems' limits (Shortcut: 100,000)


class CreateRefused(UpstreamError):
    """The system answered and made nothing (401/403/404/422/429): the line says why."""


class CreateUnknown(UpstreamError):
    """No clear answer (a timeout, a 5xx): the item may exist; look it up by its creation key first."""


@dataclass(frozen=True)
class TicketDraft:
    """A story or ticket as the person confirmed it (prefilled from the report)."""

    title: str
    description: str
    permalink: str | None = None
    priority: str | None = None  # ours: Critical / High / Medium / Low
    # Shortcut
    workflow_state_id: int | None = None  # None: the first unstarted state of the default workflow
    group_id: str | None = None
    project_id: int | None = None
    # Zendesk
    ticket_type: str = "problem"  # problem / incident
    requester_email: str | None = None  # None: the API user


class Creator(Protocol):
    """One system's create / look-up / fetch (adapters/shortcut_create.py, adapters/zendesk_create.py)."""

    name: str  # "shortcut" / "zendesk"

    def create(self, draft: TicketDraft, key: str) -> BugRecord: ...

    def find(self, key: str, permalink: str | None) -> BugRecord | None: ...

    def fetch(self, item_id: int) -> BugRecord | None: ...
