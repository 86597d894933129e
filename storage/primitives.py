"""What each store implements below the shared orchestration (storage/store.py): reads, and writes that are
committed together or not at all.

A store reads partitions, aliases, single records, leases and the alias-graph version, and `commit`s a list
of the writes below atomically, every write's condition included: when one condition fails nothing is
written and `ConditionFailed` is raised (the orchestration reads again and retries; it never escapes the
store). On DynamoDB a commit is one TransactWriteItems (or one conditional PutItem / UpdateItem / DeleteItem
when it has a single action); on SQLite a savepoint inside the operation's one serialised transaction.

The alias graph has a version: every write that changes where records resolve (an alias added, an alias
starting to unlink) bumps it, and every batch of record moves checks it, so a move planned from aliases that
changed meanwhile is refused and planned again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.model import BugRecord
from storage.values import AuditEntry

if TYPE_CHECKING:
    from storage.impact import Impact

MOVING = "moving"  # the alias is written, records are still moving to the target (a link in progress)
LINKED = "linked"
UNLINKING = "unlinking"  # records are moving back; the alias no longer counts when resolving


@dataclass(frozen=True)
class Alias:
    source_id: str
    target_id: str
    state: str  # MOVING, LINKED or UNLINKING
    actor: str
    at: str
    destination: str  # where the link sent records when it started (the end of the target's chain then)

    @property
    def active(self) -> bool:
        """Whether resolving follows it: new records of source_id go to the target."""
        return self.state != UNLINKING


@dataclass(frozen=True)
class Partition:
    """Everything stored under one ticket id."""

    ticket_id: str
    records: tuple[BugRecord, ...]  # the records living here (deleted ones included)
    alias: Alias | None
    audit: tuple[AuditEntry, ...]
    incoming: tuple[str, ...] = ()  # ids whose link into this one is still moving records


@dataclass(frozen=True)
class Lease:
    name: str
    owner: str
    expires_at: float  # epoch seconds


# -- writes -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InsertRecord:
    """A new record under location; condition: not stored yet, no active alias at location, and each alias
    of `via` still active and leading to the next id (empty: a BumpGraph in the same commit guards it)."""

    record: BugRecord
    location: str
    via: tuple[str, ...]  # the record's home id ... location, as resolved


@dataclass(frozen=True)
class ReplaceRecord:
    """A newer copy of a stored record, where it lives; condition: still there, still the copy `seen`."""

    record: BugRecord
    seen: BugRecord  # as read: its ticket_id is where it lives, its updated_at / source_version are checked


@dataclass(frozen=True)
class MoveRecord:
    """A record, as read, from source to destination; condition: still there and unchanged (its updated_at
    and source_version)."""

    record: BugRecord
    source: str
    destination: str


@dataclass(frozen=True)
class AddAlias:
    """Condition: source_id has no alias."""

    alias: Alias


@dataclass(frozen=True)
class ChangeAlias:
    """alias.state -> to_state (None removes it); condition: the alias is still exactly as read."""

    alias: Alias
    to_state: str | None


@dataclass(frozen=True)
class WriteAudit:
    """One link / unlink event, kept under each of ticket_ids."""

    ticket_ids: tuple[str, ...]
    entry: AuditEntry
    event_id: str  # unique per event: "<at>#<random>"


@dataclass(frozen=True)
class CheckGraph:
    """Condition: the alias graph is still at version (nothing changed where records resolve)."""

    version: int


@dataclass(frozen=True)
class BumpGraph:
    """The alias graph changes: version -> version + 1; condition: it was still at version."""

    version: int


@dataclass(frozen=True)
class PutImpact:
    """A bug's impact tally (storage/impact.py) after the commit's record writes; `impact` None removes it.
    Condition: the stored tally is still at seen_revision (None: there is none)."""

    ticket_id: str
    impact: Impact | None
    seen_revision: int | None


@dataclass(frozen=True)
class PutLease:
    """Take or renew a lease; condition: the lease is still `seen` (None: no lease)."""

    lease: Lease
    seen: Lease | None


@dataclass(frozen=True)
class RemoveLease:
    seen: Lease


@dataclass(frozen=True)
class AddToList:
    """`member` joins the named list at `at` (lists are read newest first: `StorePort.read_list`). No
    condition: derived data that rides in the commit of the write it derives from (an author's reports, kept
    with each report's insert), so keeping it costs no request of its own."""

    name: str
    member: str
    at: str  # a stored timestamp: the list's order


Write = (
    InsertRecord
    | ReplaceRecord
    | MoveRecord
    | AddAlias
    | ChangeAlias
    | WriteAudit
    | CheckGraph
    | BumpGraph
    | PutImpact
    | PutLease
    | RemoveLease
    | AddToList
)
