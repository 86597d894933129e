"""The systems a ticket can be created in or read from: the Shortcut and Zendesk creators bot/bootstrap.py
built (None when that system is not configured), and whether creating is on (BUG_CREATE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from adapters.create import Creator
from bot.config import not_configured
from storage import systems
from storage.errors import BugTrackerError
from storage.model import BugRecord

if TYPE_CHECKING:
    from adapters.shortcut_create import ShortcutCreate


class CreateUnavailable(BugTrackerError):
    """Creating is switched off, or that system is not configured."""


class CreateNotConfigured(CreateUnavailable):
    """A setting stands in the way (BUG_CREATE=off, the system's credentials unset): the CLI's exit 3."""


@dataclass(frozen=True)
class PullScope:
    """What the configured pulls take: Shortcut stories of SHORTCUT_QUERY's `type:` (a query with any other
    term cannot be judged here: nothing is taken), and items changed on or after SYNC_START."""

    shortcut_query: str = "type:bug"
    start: date | None = None

    def takes(self, record: BugRecord) -> bool:
        if self.start is not None and record.updated_at[:10] < self.start.isoformat():
            return False
        if record.source_system != "shortcut":
            return True
        story_type = str((record.attributes or {}).get("story_type") or "").casefold()
        for term in self.shortcut_query.split():
            name, _, value = term.partition(":")
            if name.casefold() != "type" or story_type != value.strip("\"'").casefold():
                return False
        return True


@dataclass(frozen=True)
class Upstreams:
    shortcut: ShortcutCreate | None = None  # also offers the modal's choices (workflow states, teams…)
    zendesk: Creator | None = None
    create_enabled: bool = True  # BUG_CREATE
    scope: PullScope = PullScope()  # what a fetch by id may store: only what the pulls would take

    def takes(self, record: BugRecord) -> bool:
        return self.scope.takes(record)

    def reader(self, source: str) -> Creator | None:
        """The system a ticket id belongs to, for reading one item (None: not configured)."""
        return self.shortcut if source == "shortcut" else self.zendesk if source == "zendesk" else None

    def creator(self, system: str) -> Creator:
        system = system.lower()
        if system not in systems.TICKET_SYSTEMS:
            raise CreateUnavailable(f"create in shortcut or zendesk, not '{system[:40]}'")
        if not self.create_enabled:
            raise CreateNotConfigured("creating tickets from reports is switched off here (BUG_CREATE=off)")
        creator = self.reader(system)
        if creator is None:
            raise CreateNotConfigured(not_configured(system))
        return creator

    def available(self) -> list[str]:
        """The systems a ticket can be created in now (for the buttons and the modal's choice)."""
        if not self.create_enabled:
            return []
        return [system for system in systems.TICKET_SYSTEMS if self.reader(system) is not None]


NO_UPSTREAMS = Upstreams(create_enabled=False)
