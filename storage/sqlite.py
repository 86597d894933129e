"""The embedded default store: one SQLite file, the same semantics as the DynamoDB table.

A record's key is its source record (`zendesk#12345`); moving it under another ticket id is an UPDATE of
`ticket_id` inside one transaction, so links are atomic here without the DynamoDB store's stubs.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from storage import rules
from storage.errors import LinkRefused, StoreUnavailable
from storage.model import BugRecord, now_timestamp, parse_ticket_id, range_bounds
from storage.paging import decode_cursor, encode_cursor
from storage.store import (
    AuditEntry,
    BugStore,
    Counts,
    LinkResult,
    Page,
    TicketView,
    UpsertOutcome,
    UpsertResult,
)

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
CREATE INDEX IF NOT EXISTS records_by_priority ON records (priority, created_at);
CREATE INDEX IF NOT EXISTS records_by_state ON records (state, created_at);
CREATE INDEX IF NOT EXISTS records_by_source ON records (source_system, created_at);
CREATE TABLE IF NOT EXISTS aliases (
    source_id TEXT PRIMARY KEY, target_id TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id TEXT NOT NULL, action TEXT NOT NULL,
    from_id TEXT NOT NULL, to_id TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL, moved INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_ticket ON audit (ticket_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL);
"""

# Inserts a record, or replaces the stored copy of the same source record (the primary key).
_WRITE_RECORD = (
    "INSERT OR REPLACE INTO records (source_record, ticket_id, home_id, source_system, record_id, created_at,"
    " updated_at, title, priority, priority_raw, state, state_type, url, deleted, attributes, source_version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_COLUMNS = (
    "source_record, ticket_id, source_system, record_id, created_at, updated_at, title, priority,"
    " priority_raw, state, state_type, url, deleted, attributes, source_version"
)


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    """A file created before a column existed gets it (CREATE TABLE IF NOT EXISTS leaves it alone)."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(records)")}
    if "source_version" not in columns:
        connection.execute("ALTER TABLE records ADD COLUMN source_version TEXT")


class SqliteStore(BugStore):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.description = f"embedded SQLite store at {self.path}"
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None

    # -- plumbing ------------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            try:
                if self.path != ":memory:":
                    Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(
                    self.path, timeout=30, isolation_level=None, check_same_thread=False
                )
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(_SCHEMA)
                _add_missing_columns(connection)
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot open the SQLite store at {self.path}: {exc}") from exc
            connection.row_factory = sqlite3.Row
            self._connection = connection
        return self._connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One serialised transaction, across threads (the lock) and processes (BEGIN IMMEDIATE)."""
        with self._lock:
            connection = self._conn()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn().execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def init(self) -> None:
        self._conn()

    def check(self) -> None:
        try:
            self._read("SELECT 1 FROM records LIMIT 1")
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

    def _aliases(self, connection: sqlite3.Connection) -> rules.AliasLookup:
        def target_of(ticket_id: str) -> str | None:
            row = connection.execute(
                "SELECT target_id FROM aliases WHERE source_id = ?", (ticket_id,)
            ).fetchone()
            return row[0] if row else None

        return target_of

    # -- writes ----------------------------------------------------------------------------------
    def upsert(self, record: BugRecord) -> UpsertResult:
        with self._write() as connection:
            return self._upsert_in(connection, record)

    def upsert_linked(self, record: BugRecord, target_id: str, actor: str) -> tuple[UpsertResult, LinkResult]:
        """One transaction: a new record is stored under the target from the start; a refused link still
        keeps the record (the refusal is raised after the commit)."""
        target_id = parse_ticket_id(target_id)
        refusal = None
        with self._write() as connection:
            result = self._upsert_in(connection, record)
            try:
                link = self._link_in(connection, record.home_id, target_id, actor)
            except LinkRefused as exc:
                refusal = exc
        if refusal is not None:
            raise refusal
        return UpsertResult(result.outcome, link.resolved_target), link

    def _upsert_in(self, connection: sqlite3.Connection, record: BugRecord) -> UpsertResult:
        row = connection.execute(
            f"SELECT {_COLUMNS} FROM records WHERE source_record = ?", (record.source_record,)
        ).fetchone()
        if row is None:
            location = rules.resolve_chain(record.home_id, self._aliases(connection))[-1]
            connection.execute(_WRITE_RECORD, self._row_values(record, location))
            return UpsertResult(UpsertOutcome.INSERTED, location)
        stored = self._record(row)
        outcome = rules.compare(stored, record)
        if outcome is UpsertOutcome.UPDATED:
            connection.execute(_WRITE_RECORD, self._row_values(record, stored.location))
        return UpsertResult(outcome, stored.location)

    def get_record(self, source_system: str, record_id: str) -> BugRecord | None:
        rows = self._read(
            f"SELECT {_COLUMNS} FROM records WHERE source_record = ?", (f"{source_system}#{record_id}",)
        )
        return self._record(rows[0]) if rows else None

    def resolve(self, ticket_id: str) -> tuple[str, ...]:
        ticket_id = parse_ticket_id(ticket_id)
        with self._lock:
            return rules.resolve_chain(ticket_id, self._aliases(self._conn()))

    def link(self, source_id: str, target_id: str, actor: str) -> LinkResult:
        source_id, target_id = parse_ticket_id(source_id), parse_ticket_id(target_id)
        with self._write() as connection:
            return self._link_in(connection, source_id, target_id, actor)

    def _link_in(
        self, connection: sqlite3.Connection, source_id: str, target_id: str, actor: str
    ) -> LinkResult:
        aliases = self._aliases(connection)
        existing = aliases(source_id)
        chain = rules.resolve_chain(target_id, aliases)
        if existing is not None:
            rules.check_relink(source_id, target_id, existing)
            return LinkResult(source_id, target_id, chain[-1], (), already=True)
        has_records = connection.execute(
            "SELECT 1 FROM records WHERE ticket_id = ? LIMIT 1", (source_id,)
        ).fetchone()
        rules.check_link(source_id, target_id, chain, has_records is not None)
        destination = chain[-1]
        moved = tuple(
            row[0]
            for row in connection.execute(
                "SELECT source_record FROM records WHERE ticket_id = ? ORDER BY source_record",
                (source_id,),
            )
        )
        connection.execute("UPDATE records SET ticket_id = ? WHERE ticket_id = ?", (destination, source_id))
        now = now_timestamp()
        connection.execute(
            "INSERT INTO aliases (source_id, target_id, actor, at) VALUES (?, ?, ?, ?)",
            (source_id, target_id, actor, now),
        )
        self._audit(
            connection, {source_id, destination}, "link", source_id, target_id, actor, now, len(moved)
        )
        return LinkResult(source_id, target_id, destination, moved)

    def unlink(self, ticket_id: str, actor: str) -> LinkResult:
        ticket_id = parse_ticket_id(ticket_id)
        with self._write() as connection:
            aliases = self._aliases(connection)
            target = rules.check_unlink(ticket_id, aliases(ticket_id))
            location = rules.resolve_chain(target, aliases)[-1]
            connection.execute("DELETE FROM aliases WHERE source_id = ?", (ticket_id,))
            moved = []
            rows = connection.execute(
                "SELECT source_record, home_id FROM records WHERE ticket_id = ? ORDER BY source_record",
                (location,),
            ).fetchall()
            for source_record, home in rows:
                new_location = rules.resolve_chain(home, aliases)[-1]
                if new_location != location:
                    connection.execute(
                        "UPDATE records SET ticket_id = ? WHERE source_record = ?",
                        (new_location, source_record),
                    )
                    moved.append(source_record)
            now = now_timestamp()
            self._audit(
                connection, {ticket_id, location}, "unlink", ticket_id, target, actor, now, len(moved)
            )
            return LinkResult(ticket_id, target, location, tuple(moved))

    @staticmethod
    def _audit(
        connection: sqlite3.Connection,
        ticket_ids: set[str],
        action: str,
        from_id: str,
        to_id: str,
        actor: str,
        at: str,
        moved: int,
    ) -> None:
        for ticket_id in sorted(ticket_ids):
            connection.execute(
                "INSERT INTO audit (ticket_id, action, from_id, to_id, actor, at, moved)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (ticket_id, action, from_id, to_id, actor, at, moved),
            )

    # -- reads -----------------------------------------------------------------------------------
    def show(self, ticket_id: str, include_deleted: bool = False) -> TicketView:
        requested = parse_ticket_id(ticket_id)
        with self._lock:
            connection = self._conn()
            chain = rules.resolve_chain(requested, self._aliases(connection))
            location = chain[-1]
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM records WHERE ticket_id = ? ORDER BY source_record", (location,)
            ).fetchall()
            audit_rows = connection.execute(
                "SELECT action, from_id, to_id, actor, at, moved FROM audit WHERE ticket_id IN (?, ?)"
                " ORDER BY at, seq",
                (requested, location),
            ).fetchall()
        records = [self._record(row) for row in rows]
        audit = rules.unique_audit(AuditEntry(*row) for row in audit_rows)
        return rules.build_view(requested, chain, records, audit, include_deleted)

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
            created_at, source_record = decode_cursor(cursor)
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
        # the summary columns only (as DynamoDB reads its index): no attributes JSON to parse per row
        counts = Counts()
        rows = self._read(
            "SELECT source_system, record_id, created_at, updated_at, priority, state, state_type, deleted,"
            " ticket_id FROM records"
        )
        for row in rows:
            counts.add(self._record(row))
        return counts

    def new_per_day(self, since: str, until: str) -> dict[str, dict[str, int]]:
        low, high = range_bounds(since, until)
        rows = self._read(
            "SELECT source_system, substr(created_at, 1, 10), count(*) FROM records"
            " WHERE deleted = 0 AND created_at BETWEEN ? AND ? GROUP BY 1, 2 ORDER BY 1, 2",
            (low, high),
        )
        result: dict[str, dict[str, int]] = {}
        for source, day, number in rows:
            result.setdefault(source, {})[day] = number
        return result

    # -- bookkeeping -----------------------------------------------------------------------------
    def get_meta(self, key: str) -> dict[str, Any] | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else None

    def put_meta(self, key: str, value: dict[str, Any]) -> None:
        with self._write() as connection:
            connection.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value, sort_keys=True)),
            )

    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        now = time.time()
        with self._write() as connection:
            row = connection.execute(
                "SELECT owner, expires_at FROM leases WHERE name = ?", (name,)
            ).fetchone()
            if row is not None and row[0] != owner and row[1] > now:
                return False
            connection.execute(
                "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE"
                " SET owner = excluded.owner, expires_at = excluded.expires_at",
                (name, owner, now + ttl_seconds),
            )
            return True

    def release_lease(self, name: str, owner: str) -> None:
        with self._write() as connection:
            connection.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))
