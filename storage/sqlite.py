"""The embedded default store: one SQLite file, the port (storage/port.py) over it, and `SqliteStore`, the
BugStore built on it.

The semantics (link, unlink, show, upserts, leases) are written once above the port (storage/store.py).
Each operation runs in one serialised transaction (`transaction()`: BEGIN IMMEDIATE, across threads and
processes), and each commit is a savepoint inside it, so a link here is atomic, and a record's move is an
UPDATE of `ticket_id` (the key is the source record, `zendesk#12345`): no stubs are needed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from storage import counters, impact, rules
from storage.errors import ConditionFailed, StoreError, StoreMissing, StoreUnavailable
from storage.impact import Impact, Root
from storage.model import ARCHIVED_STATE, BugRecord, range_bounds
from storage.paging import decode_cursor, encode_cursor, strings
from storage.port import StorePort
from storage.primitives import (
    MOVING,
    UNLINKING,
    AddAlias,
    AddToList,
    Alias,
    BumpGraph,
    ChangeAlias,
    CheckGraph,
    InsertRecord,
    Lease,
    MoveRecord,
    Partition,
    PutImpact,
    PutLease,
    RemoveLease,
    ReplaceRecord,
    Write,
    WriteAudit,
)
from storage.store import BugStore, Clock
from storage.values import AuditEntry, Counts, Page

log = logging.getLogger(__name__)

# The partial indexes match the views (as DynamoDB's sparse indexes do): a page reads only rows it shows.
# Their WHERE terms are spelled exactly as list_records / unlinked_slack spell them, so SQLite uses them.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    source_record TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    home_id TEXT NOT NULL,
    source_system TEXT NOT NULL,
    record_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    title TEXT NOT NULL,
    priority TEXT,
    priority_raw TEXT,
    state TEXT,
    state_type TEXT,
    url TEXT,
    deleted INTEGER NOT NULL DEFAULT 0,
    attributes TEXT NOT NULL,
    source_version TEXT
);
CREATE INDEX IF NOT EXISTS records_by_ticket ON records (ticket_id);
DROP INDEX IF EXISTS records_by_priority;
DROP INDEX IF EXISTS records_by_state;
DROP INDEX IF EXISTS records_by_source;
CREATE INDEX IF NOT EXISTS listed_by_priority ON records (priority, created_at, source_record)
    WHERE deleted = 0 AND (state IS NULL OR state != 'archived');
CREATE INDEX IF NOT EXISTS listed_by_source ON records (source_system, created_at, source_record)
    WHERE deleted = 0 AND (state IS NULL OR state != 'archived');
CREATE INDEX IF NOT EXISTS listed_by_created ON records (created_at, source_record)
    WHERE deleted = 0 AND (state IS NULL OR state != 'archived');
CREATE INDEX IF NOT EXISTS live_by_state ON records (state, created_at, source_record) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS unlinked_slack ON records (created_at, source_record)
    WHERE deleted = 0 AND source_system = 'slack' AND ticket_id = home_id;
CREATE TABLE IF NOT EXISTS aliases (
    source_id TEXT PRIMARY KEY, target_id TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'linked', destination TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id TEXT NOT NULL, action TEXT NOT NULL,
    from_id TEXT NOT NULL, to_id TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL, moved INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_ticket ON audit (ticket_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS lists (
    name TEXT NOT NULL, member TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (name, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lists_newest ON lists (name, at);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS impact (
    ticket_id TEXT PRIMARY KEY, revision INTEGER NOT NULL, counts TEXT NOT NULL, root TEXT, open_rank TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS impact_ranked ON impact (open_rank) WHERE open_rank IS NOT NULL;
"""

# Columns added after the first release, added to older files when they are opened (CREATE TABLE IF NOT
# EXISTS leaves an existing table alone).
_ADDED_COLUMNS = {
    "records": (("source_version", "TEXT"),),
    "aliases": (("state", "TEXT NOT NULL DEFAULT 'linked'"), ("destination", "TEXT")),
}

# A new record (nothing written, rowcount 0, when the source record is stored already).
_INSERT_RECORD = (
    "INSERT OR IGNORE INTO records (source_record, ticket_id, home_id, source_system, record_id, created_at,"
    " updated_at, title, priority, priority_raw, state, state_type, url, deleted, attributes, source_version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# A newer copy where the record lives, if it is still the copy that was read.
_REPLACE_RECORD = (
    "UPDATE records SET ticket_id = ?, home_id = ?, source_system = ?, record_id = ?, created_at = ?,"
    " updated_at = ?, title = ?, priority = ?, priority_raw = ?, state = ?, state_type = ?, url = ?,"
    " deleted = ?, attributes = ?, source_version = ?"
    " WHERE source_record = ? AND ticket_id = ? AND updated_at = ? AND source_version IS ?"
)
_ALIAS_COLUMNS = "source_id, target_id, state, actor, at, destination"

# What counts read (as DynamoDB's recount does not parse the source's own fields either).
_SUMMARY_COLUMNS = (
    "source_system, record_id, created_at, updated_at, title, priority, state, state_type, url, deleted,"
    " ticket_id, attributes"
)
_IMPACT_COLUMNS = "ticket_id, revision, counts, root"
_COLUMNS = (
    "source_record, ticket_id, source_system, record_id, created_at, updated_at, title, priority,"
    " priority_raw, state, state_type, url, deleted, attributes, source_version"
)


_IN_BATCH = 500  # ids per `IN (...)` read (SQLite allows 32,766 variables; a sync batch is ~100 records)
CHECKPOINT_WAIT = 0.5  # seconds a checkpoint waits for readers of older snapshots (then: retried later)
CHECKPOINT_RETRY = (0.05, 5.0)  # the first and the longest pause between two tries of an owed checkpoint
BUSY_TIMEOUT = 10.0  # seconds a write waits for another process's lock before it fails (and is retried)


class SqliteTable(StorePort):
    operation_is_atomic = True  # one serialised transaction around each operation

    def __init__(self, path: str | Path, busy_timeout: float = BUSY_TIMEOUT, create: bool = True) -> None:
        """create=False: the file must exist (StoreMissing otherwise) until init() is called, so that a
        command run from the wrong directory does not quietly open a new, empty store there."""
        self.path = str(path)
        # the absolute path: "nothing found" and the logs name the very file, whatever the cwd was
        self.location = self.path if self.path == ":memory:" else str(Path(self.path).resolve())
        self.description = f"embedded SQLite store at {self.location}"
        self.create = create
        self.busy_timeout = busy_timeout  # seconds to wait for another process's write to finish
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._pending: dict[str, int] = {}  # counter changes of the open transaction, added before COMMIT
        self._emptier = _WalEmptier(self.path)

    # -- plumbing ------------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            if not self.create and self.path != ":memory:" and not Path(self.path).exists():
                raise StoreMissing(self.location)
            try:
                if self.path != ":memory:":
                    Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(
                    self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
                )
                connection.execute("PRAGMA journal_mode=WAL")
                # erased words leave no trace in freed space: deleted content is overwritten with zeros
                connection.execute("PRAGMA secure_delete=ON")
                had_counters = _has_table(connection, "counters")
                had_impact = _has_table(connection, "impact")
                connection.executescript(_SCHEMA)
                _add_missing_columns(connection)
            except (sqlite3.Error, OSError) as exc:
                raise StoreUnavailable(f"cannot open the SQLite store at {self.path}: {exc}") from exc
            connection.row_factory = sqlite3.Row
            self._connection = connection
            if not had_counters:  # a file from before the counters: count what it holds, once
                rows = connection.execute(f"SELECT {_SUMMARY_COLUMNS} FROM records").fetchall()
                _add_counters(connection, counters.tally(self._record(row) for row in rows))
            if not had_impact:  # a file from before the impact tallies: tally what it holds, once
                rows = connection.execute(f"SELECT {_SUMMARY_COLUMNS} FROM records").fetchall()
                tallies = impact.tally(self._record(row) for row in rows)
                for found in tallies.values():
                    self._apply(connection, PutImpact(found.ticket_id, replace(found, revision=1), None))
        return self._connection

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite's own errors become the store's: a locked, read-only or full file is one readable line."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"the SQLite store at {self.path} cannot be used: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"the SQLite store at {self.path} failed: {exc}") from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One serialised transaction, across threads (the lock) and processes (BEGIN IMMEDIATE)."""
        with self._lock, self._errors():
            connection = self._conn()
            connection.execute("BEGIN IMMEDIATE")
            self._pending = {}
            try:
                yield connection
                _add_counters(connection, self._pending)  # one aggregated update per transaction
            except BaseException:
                if connection.in_transaction:  # SQLite may have rolled back already (a full disk)
                    connection.execute("ROLLBACK")
                raise
            finally:
                self._pending = {}
            connection.execute("COMMIT")

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock, self._errors():
            return self._conn().execute(sql, params).fetchall()

    def after_erase(self) -> None:
        """The words an erase replaced live on in WAL frames until a checkpoint copies the WAL into the file
        and empties it: one is owed now, tried at once and retried until it completes (_WalEmptier)."""
        if self.path != ":memory:":
            self._emptier.owe()

    def close(self) -> None:
        if self.path != ":memory:":
            self._emptier.close()
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def init(self) -> None:
        self.create = True
        self._conn()

    def check(self) -> None:
        """On a connection of its own (not behind this store's lock, which a writer waiting for another
        process's lock may hold for seconds): /healthz answers at once."""
        self._conn()  # the file and its schema exist (created on first use if self.create)
        if self.path == ":memory:":
            return
        try:
            probe = sqlite3.connect(f"{Path(self.path).resolve().as_uri()}?mode=ro", uri=True, timeout=1)
            try:
                probe.execute("SELECT 1 FROM records LIMIT 1").fetchall()
            finally:
                probe.close()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the SQLite store at {self.path} cannot be read: {exc}") from exc

    # -- rows <-> records ------------------------------------------------------------------------
    @staticmethod
    def _row_values(record: BugRecord, ticket_id: str) -> tuple[Any, ...]:
        return (
            record.source_record,
            ticket_id,
            record.home_id,
            record.source_system,
            record.record_id,
            record.created_at,
            record.updated_at,
            record.title,
            record.priority,
            record.priority_raw,
            record.state,
            record.state_type,
            record.url,
            int(record.deleted),
            json.dumps(record.attributes, sort_keys=True),
            record.source_version,
        )

    @staticmethod
    def _record(row: sqlite3.Row) -> BugRecord:
        """A record from a row of _COLUMNS, or of fewer columns (counts read the summary ones only)."""
        present = set(row.keys())
        optional = {
            name: row[name] for name in ("title", "priority_raw", "url", "source_version") if name in present
        }
        return BugRecord(
            source_system=row["source_system"],
            record_id=row["record_id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            priority=row["priority"],
            state=row["state"],
            state_type=row["state_type"],
            deleted=bool(row["deleted"]),
            attributes=json.loads(row["attributes"]) if "attributes" in present else {},
            ticket_id=row["ticket_id"],
            **optional,
        )

    def _alias(self, row: sqlite3.Row | None) -> Alias | None:
        if row is None:
            return None
        return Alias(
            row["source_id"], row["target_id"], row["state"], row["actor"], row["at"], row["destination"]
        )

    # -- primitives: reads -----------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[Any]:
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """The whole operation in one serialised transaction (nested calls join the open one)."""
        with self._lock:
            if self._conn().in_transaction:
                yield
                return
            with self._write():
                yield

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: every read of one show sees the same committed state (WAL snapshot)."""
        with self._lock:
            connection = self._conn()
            if connection.in_transaction:
                yield
                return
            with self._errors():
                connection.execute("BEGIN")
            try:
                yield
            finally:
                with self._errors():
                    connection.execute("COMMIT")

    def read_partition(self, ticket_id: str) -> Partition:
        with self.snapshot():
            rows = self._read(
                f"SELECT {_COLUMNS} FROM records WHERE ticket_id = ? ORDER BY source_record", (ticket_id,)
            )
            audit_rows = self._read(
                "SELECT action, from_id, to_id, actor, at, moved FROM audit WHERE ticket_id = ?"
                " ORDER BY at, seq",
                (ticket_id,),
            )
            incoming = self._read(
                "SELECT source_id FROM aliases WHERE destination = ? AND state = ? ORDER BY source_id",
                (ticket_id, MOVING),
            )
            alias = self.read_alias(ticket_id)
        return Partition(
            ticket_id,
            tuple(self._record(row) for row in rows),
            alias,
            tuple(AuditEntry(*row) for row in audit_rows),
            tuple(row[0] for row in incoming),
        )

    def read_alias(self, ticket_id: str) -> Alias | None:
        rows = self._read(f"SELECT {_ALIAS_COLUMNS} FROM aliases WHERE source_id = ?", (ticket_id,))
        return self._alias(rows[0]) if rows else None

    def read_record(self, source_system: str, record_id: str) -> BugRecord | None:
        rows = self._read(
            f"SELECT {_COLUMNS} FROM records WHERE source_record = ?", (f"{source_system}#{record_id}",)
        )
        return self._record(rows[0]) if rows else None

    def read_aliases(self, ticket_ids: Iterable[str]) -> dict[str, Alias | None]:
        wanted = list(dict.fromkeys(ticket_ids))
        found: dict[str, Alias | None] = dict.fromkeys(wanted)
        for start in range(0, len(wanted), _IN_BATCH):
            batch = wanted[start : start + _IN_BATCH]
            marks = ", ".join("?" * len(batch))
            for row in self._read(
                f"SELECT {_ALIAS_COLUMNS} FROM aliases WHERE source_id IN ({marks})", (*batch,)
            ):
                found[row["source_id"]] = self._alias(row)
        return found

    def read_records(self, records: Sequence[BugRecord]) -> dict[str, BugRecord | None]:
        wanted = list(dict.fromkeys(record.source_record for record in records))
        found: dict[str, BugRecord | None] = dict.fromkeys(wanted)
        for start in range(0, len(wanted), _IN_BATCH):
            batch = wanted[start : start + _IN_BATCH]
            marks = ", ".join("?" * len(batch))
            for row in self._read(
                f"SELECT {_COLUMNS} FROM records WHERE source_record IN ({marks})", (*batch,)
            ):
                found[row["source_record"]] = self._record(row)
        return found

    def read_graph_version(self) -> int:
        return 0  # every operation is one serialised transaction: the graph cannot change under it

    def read_lease(self, name: str) -> Lease | None:
        rows = self._read("SELECT owner, expires_at FROM leases WHERE name = ?", (name,))
        return Lease(name, rows[0][0], rows[0][1]) if rows else None

    # -- primitives: the one write ---------------------------------------------------------------
    def commit(self, writes: list[Write]) -> None:
        """Every write or none: a savepoint inside the operation's transaction (its own one if none)."""
        with self._transaction():
            connection = self._conn()
            connection.execute("SAVEPOINT writes")
            try:
                for write in writes:
                    self._apply(connection, write)
            except BaseException:
                connection.execute("ROLLBACK TO writes")
                connection.execute("RELEASE writes")
                raise
            connection.execute("RELEASE writes")
            counters.add(self._pending, counters.writes_delta(writes))

    def _apply(self, connection: sqlite3.Connection, write: Write) -> None:
        match write:
            case InsertRecord(record=record, location=location):
                aliased = connection.execute(
                    "SELECT 1 FROM aliases WHERE source_id = ? AND state != ?", (location, UNLINKING)
                ).fetchone()
                _expect(aliased is None)  # records resolving elsewhere are not inserted here (as DynamoDB)
                if not _changed(connection, _INSERT_RECORD, self._row_values(record, location)):
                    stored = connection.execute(
                        f"SELECT {_COLUMNS} FROM records WHERE source_record = ?", (record.source_record,)
                    ).fetchall()
                    raise ConditionFailed("stored already", tuple(self._record(row) for row in stored))
            case ReplaceRecord(record=record, seen=seen):
                values = self._row_values(record, seen.location)[1:]
                unchanged = (record.source_record, seen.location, seen.updated_at, seen.source_version)
                _expect(_changed(connection, _REPLACE_RECORD, (*values, *unchanged)))
            case MoveRecord(record=record, source=source, destination=destination):
                _expect(
                    _changed(
                        connection,
                        "UPDATE records SET ticket_id = ? WHERE source_record = ? AND ticket_id = ?"
                        " AND updated_at = ? AND source_version IS ?",
                        (destination, record.source_record, source, record.updated_at, record.source_version),
                    )
                )
            case AddAlias(alias=alias):
                _expect(
                    _changed(
                        connection,
                        "INSERT OR IGNORE INTO aliases (source_id, target_id, state, actor, at, destination)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            alias.source_id,
                            alias.target_id,
                            alias.state,
                            alias.actor,
                            alias.at,
                            alias.destination,
                        ),
                    )
                )
            case ChangeAlias(alias=alias, to_state=None):
                _expect(
                    _changed(
                        connection,
                        "DELETE FROM aliases WHERE source_id = ? AND target_id = ? AND state = ?",
                        (alias.source_id, alias.target_id, alias.state),
                    )
                )
            case ChangeAlias(alias=alias, to_state=state):
                _expect(
                    _changed(
                        connection,
                        "UPDATE aliases SET state = ? WHERE source_id = ? AND target_id = ? AND state = ?",
                        (state, alias.source_id, alias.target_id, alias.state),
                    )
                )
            case WriteAudit(ticket_ids=ticket_ids, entry=entry):
                self._audit(connection, ticket_ids, entry)
            case CheckGraph() | BumpGraph():
                pass  # the operation's one transaction already excludes every other writer
            case PutImpact(ticket_id=ticket_id, impact=after, seen_revision=seen_revision):
                row = connection.execute("SELECT revision FROM impact WHERE ticket_id = ?", (ticket_id,))
                found = row.fetchone()
                _expect((found[0] if found else None) == seen_revision)
                if after is None:
                    connection.execute("DELETE FROM impact WHERE ticket_id = ?", (ticket_id,))
                else:
                    connection.execute(
                        "INSERT INTO impact (ticket_id, revision, counts, root, open_rank)"
                        " VALUES (?, ?, ?, ?, ?)"
                        " ON CONFLICT(ticket_id) DO UPDATE SET revision = excluded.revision,"
                        " counts = excluded.counts, root = excluded.root, open_rank = excluded.open_rank",
                        (
                            ticket_id,
                            after.revision,
                            json.dumps(after.counts, sort_keys=True),
                            json.dumps(after.root.as_dict(), sort_keys=True) if after.root else None,
                            after.rank,
                        ),
                    )
            case PutLease(lease=lease, seen=seen):
                self._check_lease(connection, lease.name, seen)
                connection.execute(
                    "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT(name)"
                    " DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at",
                    (lease.name, lease.owner, lease.expires_at),
                )
            case RemoveLease(seen=seen):
                self._check_lease(connection, seen.name, seen)
                connection.execute("DELETE FROM leases WHERE name = ?", (seen.name,))
            case AddToList(name=name, member=member, at=at):
                connection.execute(
                    "INSERT OR IGNORE INTO lists (name, member, at) VALUES (?, ?, ?)", (name, member, at)
                )
            case _:
                raise TypeError(f"not a store write: {write!r}")

    @staticmethod
    def _check_lease(connection: sqlite3.Connection, name: str, seen: Lease | None) -> None:
        row = connection.execute("SELECT owner, expires_at FROM leases WHERE name = ?", (name,)).fetchone()
        now = Lease(name, row[0], row[1]) if row else None
        _expect(now == seen)

    @staticmethod
    def _audit(connection: sqlite3.Connection, ticket_ids: tuple[str, ...], entry: AuditEntry) -> None:
        for ticket_id in ticket_ids:
            connection.execute(
                "INSERT INTO audit (ticket_id, action, from_id, to_id, actor, at, moved)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (ticket_id, entry.action, entry.from_id, entry.to_id, entry.actor, entry.at, entry.moved),
            )

    # -- index queries ---------------------------------------------------------------------------
    def list_records(
        self,
        *,
        priority: str | None = None,
        state: str | None = None,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        rules.check_list_filters(priority, state, source, limit)
        conditions, params = ["deleted = 0"], []
        if state != ARCHIVED_STATE:  # archived stories are listed only when asked for by state
            conditions.append(f"(state IS NULL OR state != '{ARCHIVED_STATE}')")
        for column, value in (("priority", priority), ("state", state), ("source_system", source)):
            if value is not None:
                conditions.append(f"{column} = ?")
                params.append(value)
        return self._page(conditions, params, since, until, limit, cursor)

    def unlinked_slack(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        rules.check_limit(limit)
        conditions = ["deleted = 0", "source_system = 'slack'", "ticket_id = home_id"]
        return self._page(conditions, [], None, None, limit, cursor)

    def _page(
        self,
        conditions: list[str],
        params: list[Any],
        since: str | None,
        until: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        low, high = range_bounds(since, until)
        conditions = [*conditions, "created_at BETWEEN ? AND ?"]
        params = [*params, low, high]
        if cursor:
            created_at, source_record = decode_cursor(cursor, strings(2))
            conditions.append("(created_at, source_record) < (?, ?)")
            params += [created_at, source_record]
        rows = self._read(
            f"SELECT {_COLUMNS} FROM records WHERE {' AND '.join(conditions)}"
            " ORDER BY created_at DESC, source_record DESC LIMIT ?",
            (*params, limit + 1),
        )
        records = tuple(self._record(row) for row in rows[:limit])
        next_cursor = None
        if len(rows) > limit:
            last = records[-1]
            next_cursor = encode_cursor([last.created_at, last.source_record])
        return Page(records, next_cursor)

    def counts(self) -> Counts:
        totals = self._counter_rows("SELECT name, value FROM counters WHERE name NOT GLOB ?", "new:*")
        return counters.to_counts(totals)

    def new_per_day(self, since: str, until: str) -> dict[str, dict[str, int]]:
        low, high = range_bounds(since, until)
        values = self._counter_rows(
            "SELECT name, value FROM counters WHERE name >= ? AND name < ?",
            counters.day_counter(low[:10], ""),
            counters.day_counter(high[:10], "\uffff"),
        )
        return counters.per_day(values, low[:10], high[:10])

    # -- counters --------------------------------------------------------------------------------
    def _counter_rows(self, sql: str, *params: str) -> dict[str, int]:
        return {name: value for name, value in self._read(sql, params) if value}

    def read_counters(self) -> dict[str, int]:
        return self._counter_rows("SELECT name, value FROM counters")

    def scan_records(self) -> Iterator[BugRecord]:
        """Row by row from one cursor (the recount holds one transaction, so this is one snapshot)."""
        with self._lock:
            rows = self._conn().execute(f"SELECT {_SUMMARY_COLUMNS} FROM records")
            while batch := rows.fetchmany(1_000):
                yield from (self._record(row) for row in batch)

    def adjust_counters(self, change: dict[str, int]) -> None:
        with self._transaction():
            counters.add(self._pending, change)

    # -- impact ----------------------------------------------------------------------------------
    def read_impacts(self, ticket_ids: Iterable[str]) -> dict[str, Impact | None]:
        wanted = list(dict.fromkeys(ticket_ids))
        found: dict[str, Impact | None] = dict.fromkeys(wanted)
        with self.snapshot():
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                marks = ", ".join("?" * len(part))
                rows = self._read(
                    f"SELECT {_IMPACT_COLUMNS} FROM impact WHERE ticket_id IN ({marks})", tuple(part)
                )
                found.update((row["ticket_id"], _impact(row)) for row in rows)
        return found

    def top_impacts(self, limit: int) -> list[Impact]:
        rows = self._read(
            f"SELECT {_IMPACT_COLUMNS} FROM impact WHERE open_rank IS NOT NULL"
            " ORDER BY open_rank DESC LIMIT ?",
            (limit,),
        )
        return [_impact(row) for row in rows]

    def scan_impacts(self) -> Iterator[Impact]:
        yield from (_impact(row) for row in self._read(f"SELECT {_IMPACT_COLUMNS} FROM impact"))

    # -- bookkeeping -----------------------------------------------------------------------------
    def ticket_ids_in_use(self) -> set[str]:
        return {row[0] for row in self._read("SELECT DISTINCT ticket_id FROM records")}

    def get_meta(self, key: str) -> dict[str, Any] | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else None

    def add_meta(self, key: str, value: dict[str, Any]) -> bool:
        with self._write() as connection:
            added = connection.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                (key, json.dumps(value, sort_keys=True)),
            )
            return bool(added.rowcount)

    def read_list(self, name: str, limit: int) -> list[str]:
        rows = self._read(
            "SELECT member FROM lists WHERE name = ? ORDER BY at DESC, member DESC LIMIT ?", (name, limit)
        )
        return [row[0] for row in rows]

    def put_meta(self, key: str, value: dict[str, Any]) -> None:
        with self._write() as connection:
            connection.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value, sort_keys=True)),
            )


class _WalEmptier:
    """Empties the WAL after an erase, until SQLite says it did (`wal_checkpoint(TRUNCATE)` not busy).

    An erase's commit is in the WAL behind the frames that still hold the replaced words; a truncating
    checkpoint copies the newest pages into the file (secure_delete zeroed the freed space) and empties the
    WAL. It needs every reader of another connection (a `bugtracker` command, a health probe, another thread's
    snapshot) to have moved past those frames and no other writer: a checkpoint that finds one in the way
    after CHECKPOINT_WAIT is owed, and a thread of its own tries again, with backoff, for as long as the
    process runs (and close() once more). It runs on a connection of its own, never under the store's lock:
    the store's reads and writes go on meanwhile. An erase owes one; a checkpoint that completes after it
    settles every erase committed before it started."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._attempting = threading.Lock()  # one checkpoint at a time, on self._connection
        self._state = threading.Condition()
        self._owed = 0  # erases asked for, counted
        self._settled = 0  # erases a completed checkpoint covers
        self._closed = False
        self._thread: threading.Thread | None = None
        self._connection: sqlite3.Connection | None = None

    def owe(self) -> None:
        """After an erase committed: try at once; in the way, leave it to the retrying thread."""
        with self._state:
            self._owed += 1
        if not self.attempt():
            with self._state:
                if self._thread is None and not self._closed:
                    thread = threading.Thread(target=self._retry, name="sqlite-wal-emptier", daemon=True)
                    self._thread = thread
                    thread.start()
                self._state.notify_all()

    def owed(self) -> bool:
        with self._state:
            return self._settled < self._owed

    def attempt(self) -> bool:
        """One truncating checkpoint; True when it completed (every erase owed before it is settled)."""
        with self._attempting:
            with self._state:
                covers = self._owed
            try:
                if self._connection is None:
                    self._connection = sqlite3.connect(
                        self.path, timeout=CHECKPOINT_WAIT, isolation_level=None, check_same_thread=False
                    )
                    self._connection.execute("PRAGMA secure_delete=ON")
                busy = self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            except sqlite3.Error as exc:  # locked, or the file cannot be opened now: as busy, tried again
                log.debug("WAL checkpoint failed, will try again: %s", exc)
                busy = 1
        if busy:
            return False
        with self._state:
            self._settled = max(self._settled, covers)
            self._state.notify_all()
        return True

    def _retry(self) -> None:
        pause, tries = CHECKPOINT_RETRY[0], 0
        while True:
            with self._state:
                while not self._closed and self._settled >= self._owed:
                    self._state.wait()
                if self._closed:
                    return
            if self.attempt():
                if tries:
                    log.info("WAL emptied after an erase, at try %d", tries + 1)
                pause, tries = CHECKPOINT_RETRY[0], 0
                continue
            tries += 1
            if tries == 10:  # once per owed checkpoint: the words stay in the WAL until it completes
                log.warning(
                    "WAL checkpoint after an erase still busy (a reader holds an older snapshot); retrying"
                )
            with self._state:
                self._state.wait(pause)  # woken early by close()
            pause = min(pause * 2, CHECKPOINT_RETRY[1])

    def close(self) -> None:
        """Stop retrying and make one last try (the last connection of the file to close empties it too). The
        store may be used again after close(): a later erase starts it again."""
        with self._state:
            self._closed = True
            self._state.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=4 * CHECKPOINT_WAIT)
        if self.owed():
            self.attempt()
        with self._attempting:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        with self._state:
            if thread is None or not thread.is_alive():
                self._closed, self._thread = False, None


def _impact(row: sqlite3.Row) -> Impact:
    root = Root.from_dict(json.loads(row["root"])) if row["root"] else None
    return Impact(row["ticket_id"], json.loads(row["counts"]), root, row["revision"])


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    found = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.fetchone() is not None


def _add_counters(connection: sqlite3.Connection, change: dict[str, int]) -> None:
    connection.executemany(
        "INSERT INTO counters (name, value) VALUES (?, ?)"
        " ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
        sorted(change.items()),
    )
    connection.executemany(
        "DELETE FROM counters WHERE name = ? AND value = 0", [(name,) for name in sorted(change)]
    )


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    for table, columns in _ADDED_COLUMNS.items():
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        for name, definition in columns:
            if name not in present:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")


def _changed(connection: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> int:
    return connection.execute(sql, params).rowcount


def _expect(condition: bool | int) -> None:
    if not condition:
        raise ConditionFailed("a condition of the commit no longer holds")


class SqliteStore(BugStore):
    """The BugStore over one SQLite file (the embedded default)."""

    port: SqliteTable

    def __init__(
        self,
        path: str | Path,
        busy_timeout: float = BUSY_TIMEOUT,
        create: bool = True,
        *,
        clock: Clock = time.time,
    ) -> None:
        """create=False: the file must exist (StoreMissing otherwise) until init() is called."""
        super().__init__(SqliteTable(path, busy_timeout, create), clock=clock)

    @property
    def path(self) -> str:
        return self.port.path

    @property
    def location(self) -> str:
        """The file's absolute path (":memory:" for an in-memory store)."""
        return self.port.location
