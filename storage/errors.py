"""The store's own exceptions. Each carries a message meant for the person who asked."""

from __future__ import annotations

from typing import Any


class BugTrackerError(Exception):
    """Base of every expected error: the message is shown to the user as it is."""


class InvalidTicketId(BugTrackerError, ValueError):
    pass


class InvalidPriority(BugTrackerError, ValueError):
    pass


class TicketNotFound(BugTrackerError):
    pass


class LinkRefused(BugTrackerError):
    """A link or unlink that would break the store's rules (self link, cycle, unknown id, ...)."""


class NothingToLink(LinkRefused):
    """The id to link has no records in this store (a wrong id, or the wrong store)."""


class StoreUnavailable(BugTrackerError):
    """The database cannot be reached or refused our credentials."""


class StoreMissing(StoreUnavailable):
    """The SQLite file does not exist, and this store was opened to use one, not to create one."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no SQLite store at {path}")
        self.path = path


class StoreError(BugTrackerError):
    """The database answered with an error we did not expect (throttling that outlasted retries, ...)."""


class ConcurrentUpdate(StoreError):
    """Another writer kept changing the same records; the operation gave up after several tries."""


class ConditionFailed(Exception):
    """A store's conditional write lost a race. Internal: the orchestration in storage/store.py reads again
    and retries, or turns it into a BugTrackerError; it never leaves the store.

    `found`: the stored records that refused an insert (an insert of a record stored already), when the
    store can tell them with the refusal itself (storage.model.BugRecord values); empty otherwise."""

    def __init__(self, message: str = "", found: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.found = found
