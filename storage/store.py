"""The store callers use: `BugStore(port)`, everything the product does with stored bugs, written once above
the port (storage/port.py) that each store implements.

The semantics live in small modules, each named for what it holds:
- storage/core.py      the placement rule (resolve, moving records to where they resolve) and the funnel
                       through which every operation reaches the port's writes;
- storage/upserts.py   newer-wins writes: upsert, upsert_many, erase;
- storage/linking.py   link, unlink, a tagged report's upsert-and-link, the id canonicalisation migration;
- storage/leases.py    leases and one-time claims;
- storage/queries.py   show, the scripts' calls (get_bug_by_ticket_id, get_bugs_by_*), the index queries;
- storage/recount.py   the counters' recount and `migrate`;
- storage/impact_upkeep.py  impact per bug: its reads, the ranked read, rebuilding it (storage/impact.py).
Two stores build a BugStore on their port: `storage.sqlite.SqliteStore` and `storage.dynamodb.DynamoDBStore`.
Errors are the exceptions of storage.errors.
"""

from __future__ import annotations

from storage.core import Clock, StoreCore
from storage.leases import Leases
from storage.linking import Linking
from storage.port import StorePort
from storage.queries import SCRIPT_PAGE, Queries
from storage.recount import RECOUNT_META, Recount
from storage.upserts import UNREAD
from storage.values import (
    AuditEntry,
    Counts,
    LinkResult,
    Page,
    TicketView,
    UpsertOutcome,
    UpsertResult,
)

__all__ = [
    "RECOUNT_META",
    "SCRIPT_PAGE",
    "UNREAD",
    "AuditEntry",
    "BugStore",
    "Clock",
    "Counts",
    "LinkResult",
    "Page",
    "StorePort",
    "TicketView",
    "UpsertOutcome",
    "UpsertResult",
]


class BugStore(Linking, Leases, Queries, Recount, StoreCore):
    """Everything the product does with stored bugs, over one store's port."""

    def init(self) -> None:
        """Create the table / schema if missing (idempotent)."""
        self.port.init()

    def check(self) -> None:
        """Raise StoreUnavailable unless the store answers and its table exists."""
        self.port.check()

    def close(self) -> None:
        """Give back what the store holds open (an SQLite file); it opens again on next use."""
        self.port.close()
