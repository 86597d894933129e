"""The product's store: one DynamoDB table (storage/schema.py), boto3 client injected; the port
(storage/port.py) over it, and `DynamoDBStore`, the BugStore built on it (the semantics are written once
above the port, storage/store.py).

How those semantics hold on a table whose keys cannot change (items: storage/dynamodb_items.py):
- A record away from home leaves a stub at home pointing to where it lives, so reading a known record never
  needs the alias chain: read home, follow the stub. Writes are conditional on what was read.
- A commit is one TransactWriteItems: a record's move changes its old place, new place and home stub
  together; a link's alias (state moving) and the `#incoming#` marker at its destination are written with
  the alias-graph version bump, and the last batch of moves marks the alias linked.
- Records move in transactions of up to `records_per_transaction` (30: 3 actions each, plus the version
  check and the bookkeeping that rides in the last one, within DynamoDB's 100).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from storage import counters, rules
from storage import dynamodb_items as items
from storage.dynamodb_batches import BatchMixin, backoff
from storage.errors import ConditionFailed
from storage.impact import Impact
from storage.model import ARCHIVED_STATE, SOURCES, BugRecord, range_bounds
from storage.paging import InvalidCursor, decode_cursor, encode_cursor, string_map, strings
from storage.port import Advance, Progress, StorePort
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
from storage.schema import (
    COUNTERS_PARTITION,
    DAY_ITEM_PREFIX,
    IMPACT_ITEM,
    INDEX_BY_KEY,
    LIVE_PRIORITY,
    LIVE_SOURCE,
    LIVE_STATE,
    OPEN_IMPACT,
    PARTITION_KEY,
    SORT_KEY,
    TOTALS_ITEM,
    UNLINKED_SOURCE,
    create_table_request,
)
from storage.store import BugStore, Clock
from storage.values import Counts, Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RECORDS_PER_TRANSACTION = 30  # a move takes up to 3 actions per record; a transaction holds 100
# A list page with two filters keys on one index and filters the other: it reads at most this many Queries
# and may come back short (with a cursor to go on), so a page's cost never grows with what lies before it.
MAX_QUERIES_PER_PAGE = 2
COUNTER_UPDATE_TRIES = 5  # an ADD colliding with a transaction on the same item is refused, not queued
KEY_BY_FILTER = {"priority": LIVE_PRIORITY, "state": LIVE_STATE, "sourceSystem": LIVE_SOURCE}


class DynamoDBTable(BatchMixin, StorePort):
    def __init__(self, client: DynamoDBClient, table_name: str, endpoint: str | None = None) -> None:
        """endpoint: where the client points when not at AWS (named in the start-up log line)."""
        self.client = client
        self.table = table_name
        self.description = f"DynamoDB table '{table_name}'" + (f" at {endpoint}" if endpoint else "")
        self.records_per_transaction = RECORDS_PER_TRANSACTION

    # -- plumbing ------------------------------------------------------------------------------
    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = getattr(self.client, operation)(**kwargs)
            return answer
        except ClientError as exc:
            raise items.map_client_error(operation, exc, self.table) from exc
        except BotoCoreError as exc:
            raise items.map_botocore_error(exc) from exc

    def get(self, partition: str, sort: str) -> dict[str, Any] | None:
        answer = self.call(
            "get_item", TableName=self.table, Key=items.key(partition, sort), ConsistentRead=True
        )
        return items.deserialize(answer["Item"]) if "Item" in answer else None

    def put(self, item: dict[str, Any], condition: str | None = None, **values: Any) -> None:
        request: dict[str, Any] = {"TableName": self.table, "Item": items.serialize(item)}
        if condition:
            request["ConditionExpression"] = condition
        if values:
            request["ExpressionAttributeValues"] = items.serialize(values)
        self.call("put_item", **request)

    def transact(self, actions: list[dict[str, Any]]) -> None:
        self.call("transact_write_items", TransactItems=actions)

    def _action(
        self, kind: str, body: dict[str, Any], condition: str | None, values: dict[str, Any]
    ) -> dict[str, Any]:
        body = {"TableName": self.table, **body}
        if condition:
            body["ConditionExpression"] = condition
        if values:
            body["ExpressionAttributeValues"] = items.serialize(values)
        expressions = f"{condition or ''} {body.get('UpdateExpression', '')}"
        names = {alias: name for alias, name in _NAMES.items() if alias in expressions}
        if names:
            body["ExpressionAttributeNames"] = names
        return {kind: body}

    def put_action(self, item: dict[str, Any], condition: str | None = None, **values: Any) -> dict[str, Any]:
        return self._action("Put", {"Item": items.serialize(item)}, condition, values)

    def delete_action(
        self, partition: str, sort: str, condition: str | None = None, **values: Any
    ) -> dict[str, Any]:
        return self._action("Delete", {"Key": items.key(partition, sort)}, condition, values)

    def check_action(self, partition: str, sort: str, condition: str, **values: Any) -> dict[str, Any]:
        return self._action("ConditionCheck", {"Key": items.key(partition, sort)}, condition, values)

    def query_pages(self, **request: Any) -> Iterator[dict[str, Any]]:
        request = {"TableName": self.table, **request}
        while True:
            answer = self.call("query", **request)
            yield from (items.deserialize(item) for item in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def scan_pages(self, **request: Any) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any] | None]]:
        """A paged Scan of the table: each page's items and the position after it (None after the last),
        to resume from with ExclusiveStartKey=items.serialize(position)."""
        request = {"TableName": self.table, **request}
        while True:
            answer = self.call("scan", **request)
            start = answer.get("LastEvaluatedKey")
            yield (
                [items.deserialize(item) for item in answer.get("Items", [])],
                (items.deserialize(start) if start else None),
            )
            if start is None:
                return
            request["ExclusiveStartKey"] = start

    def partition(self, ticket_id: str) -> list[dict[str, Any]]:
        """Every item under one ticket id: one strongly consistent Query (paged past 1 MB)."""
        return list(
            self.query_pages(
                KeyConditionExpression="ticketId = :t",
                ExpressionAttributeValues={":t": {"S": ticket_id}},
                ConsistentRead=True,
            )
        )

    def init(self) -> None:
        try:
            self.client.create_table(**create_table_request(self.table))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise items.map_client_error("create_table", exc, self.table) from exc
        except BotoCoreError as exc:
            raise items.map_botocore_error(exc) from exc
        try:
            self.client.get_waiter("table_exists").wait(TableName=self.table, WaiterConfig={"Delay": 1})
        except BotoCoreError as exc:  # WaiterError included: the table never became active
            raise items.map_botocore_error(exc) from exc

    def check(self) -> None:
        self.call("describe_table", TableName=self.table)

    def prepare_migration(self, progress: Progress, manage_indexes: bool, advance: Advance | None) -> None:
        from storage import dynamodb_migrate

        dynamodb_migrate.add_indexes(self, progress, manage_indexes)
        dynamodb_migrate.backfill(self, progress, advance)

    def finish_migration(self, progress: Progress, manage_indexes: bool) -> None:
        from storage import dynamodb_migrate

        if manage_indexes:
            dynamodb_migrate.drop_legacy_indexes(self, progress)

    # -- primitives: reads -----------------------------------------------------------------------
    def read_partition(self, ticket_id: str) -> Partition:
        found = self.partition(ticket_id)
        alias = _find(found, items.ALIAS)
        return Partition(
            ticket_id,
            tuple(items.to_record(item) for item in found if items.is_record(item)),
            items.to_alias(alias) if alias is not None else None,
            tuple(items.to_audit(item) for item in found if item[SORT_KEY].startswith(items.AUDIT)),
            tuple(
                item[SORT_KEY][len(items.INCOMING) :]
                for item in found
                if item[SORT_KEY].startswith(items.INCOMING)
            ),
        )

    def read_alias(self, ticket_id: str) -> Alias | None:
        item = self.get(ticket_id, items.ALIAS)
        return items.to_alias(item) if item is not None else None

    def read_aliases(self, ticket_ids: Iterable[str]) -> dict[str, Alias | None]:
        wanted = list(dict.fromkeys(ticket_ids))
        found = self.batch_get([(ticket_id, items.ALIAS) for ticket_id in wanted])
        return {
            ticket_id: items.to_alias(found[(ticket_id, items.ALIAS)])
            if (ticket_id, items.ALIAS) in found
            else None
            for ticket_id in wanted
        }

    def alias_target(self, ticket_id: str) -> str | None:
        """Where an active alias of ticket_id leads (None: not linked)."""
        alias = self.read_alias(ticket_id)
        return alias.target_id if alias is not None and alias.active else None

    def read_record(self, source_system: str, record_id: str) -> BugRecord | None:
        """Read home; a stub there says where the record lives now (a record away from home leaves one)."""
        probe = BugRecord(source_system, record_id, "", "")
        at_home = self.get(probe.home_id, probe.source_record)
        if at_home is None:
            return None
        if "movedTo" not in at_home:
            return items.to_record(at_home)
        stored = self.get(at_home["movedTo"], probe.source_record)
        if stored is None:
            raise ConditionFailed("moved while reading")
        return items.to_record(stored)

    def read_graph_version(self) -> int:
        item = self.get(items.META_PARTITION, items.GRAPH_VERSION)
        return int(item["version"]) if item else 0

    def read_lease(self, name: str) -> Lease | None:
        item = self.get(items.LEASE_PARTITION, name)
        return Lease(name, item["holder"], float(item["expiresAt"])) if item else None

    # -- primitives: the one write -----------------------------------------------------------------
    def commit(self, writes: list[Write]) -> None:
        """One TransactWriteItems, or the single conditional call when the writes make one action. The
        counters the records' writes change are updated in the same transaction."""
        actions = [action for write in writes for action in self._actions(write)]
        actions += self.counter_actions(counters.writes_delta(writes))
        if len(actions) == 1 and "ConditionCheck" not in actions[0]:
            ((kind, body),) = actions[0].items()
            operation = {"Put": "put_item", "Delete": "delete_item", "Update": "update_item"}[kind]
            self.call(operation, **body)
        elif actions:
            self.transact(actions)

    def _actions(self, write: Write) -> list[dict[str, Any]]:
        match write:
            case InsertRecord(record=record, location=location, via=via):
                put = self.put_action(items.record_item(record, location), "attribute_not_exists(ticketId)")
                put["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"  # stored already: say as what
                actions = [
                    put,
                    self.check_action(location, items.ALIAS, _NO_ACTIVE_ALIAS, **{":unlinking": UNLINKING}),
                ]
                if location != record.home_id:
                    stub = {
                        PARTITION_KEY: record.home_id,
                        SORT_KEY: record.source_record,
                        "movedTo": location,
                    }
                    actions.append(self.put_action(stub, "attribute_not_exists(ticketId)"))
                # The chain must still hold when we write, or the record would land under a stale id.
                for hop, following in zip(via, via[1:], strict=False):
                    values = {":next": following, ":unlinking": UNLINKING}
                    actions.append(self.check_action(hop, items.ALIAS, _LEADS_TO, **values))
                return actions
            case ReplaceRecord(record=record, seen=seen):
                location = seen.location
                unchanged, values = items.unchanged_since_read(items.record_item(seen, location))
                condition = f"attribute_not_exists(movedTo) AND {unchanged}"
                return [self.put_action(items.record_item(record, location), condition, **values)]
            case MoveRecord(record=record, source=source, destination=destination):
                return self._move_actions(record, source, destination)
            case AddAlias(alias=alias):
                actions = [self.put_action(items.alias_item(alias), "attribute_not_exists(ticketId)")]
                if alias.state == MOVING:
                    marker = {
                        PARTITION_KEY: alias.destination,
                        SORT_KEY: items.INCOMING + alias.source_id,
                        "actor": alias.actor,
                    }
                    actions.append(self.put_action(marker))
                return actions
            case ChangeAlias(alias=alias, to_state=to_state):
                values = {":t": alias.target_id, ":was": alias.state}
                condition = "targetId = :t AND #s = :was"
                key = items.key(alias.source_id, items.ALIAS)
                if to_state is None:
                    actions = [self._action("Delete", {"Key": key}, condition, values)]
                else:
                    body = {"Key": key, "UpdateExpression": "SET #s = :new"}
                    actions = [self._action("Update", body, condition, {**values, ":new": to_state})]
                if alias.state == MOVING and to_state != MOVING:
                    actions.append(self.delete_action(alias.destination, items.INCOMING + alias.source_id))
                return actions
            case WriteAudit(ticket_ids=ticket_ids, entry=entry, event_id=event_id):
                return [
                    self.put_action(items.audit_item(ticket_id, entry, event_id)) for ticket_id in ticket_ids
                ]
            case CheckGraph(version=version):
                condition, values = _version_is(version)
                return [self.check_action(items.META_PARTITION, items.GRAPH_VERSION, condition, **values)]
            case BumpGraph(version=version):
                condition, values = _version_is(version)
                body = {
                    "Key": items.key(items.META_PARTITION, items.GRAPH_VERSION),
                    "UpdateExpression": "SET #v = :bumped",
                }
                return [self._action("Update", body, condition, {**values, ":bumped": version + 1})]
            case PutImpact(ticket_id=ticket_id, impact=after, seen_revision=seen_revision):
                expected: dict[str, Any] = {}
                condition = "attribute_not_exists(ticketId)"
                if seen_revision is not None:
                    condition, expected = "impactRevision = :rev", {":rev": seen_revision}
                if after is None:
                    return [self.delete_action(ticket_id, IMPACT_ITEM, condition, **expected)]
                return [self.put_action(items.impact_item(after), condition, **expected)]
            case PutLease(lease=lease, seen=seen):
                item = {
                    PARTITION_KEY: items.LEASE_PARTITION,
                    SORT_KEY: lease.name,
                    "holder": lease.owner,
                    "expiresAt": lease.expires_at,
                }
                condition, values = _lease_is(seen)
                return [self.put_action(item, condition, **values)]
            case RemoveLease(seen=seen):
                condition, values = _lease_is(seen)
                return [self.delete_action(items.LEASE_PARTITION, seen.name, condition, **values)]
            case AddToList(name=name, member=member, at=at):
                listed = {
                    PARTITION_KEY: items.LIST_PARTITION + name,
                    SORT_KEY: f"{at}#{member}",
                    "member": member,
                }
                return [self.put_action(listed)]
        raise TypeError(f"not a store write: {write!r}")

    def _move_actions(self, record: BugRecord, source: str, destination: str) -> list[dict[str, Any]]:
        """The record's old place, new place and home stub change together, if the record is as read."""
        sort, home = record.source_record, record.home_id
        unchanged, seen = items.unchanged_since_read(items.record_item(record, source))
        stub_to = {PARTITION_KEY: home, SORT_KEY: sort, "movedTo": destination}
        actions = []
        if home == source:
            actions.append(self.put_action(stub_to, f"{unchanged} AND attribute_not_exists(movedTo)", **seen))
        else:
            actions.append(self.delete_action(source, sort, unchanged, **seen))
        moved_item = items.record_item(record, destination)
        if home == destination:
            actions.append(self.put_action(moved_item, "movedTo = :from", **{":from": source}))
        else:
            actions.append(self.put_action(moved_item, "attribute_not_exists(ticketId)"))
        if home not in (source, destination):
            actions.append(self.put_action(stub_to, "movedTo = :from", **{":from": source}))
        return actions

    # -- index queries -----------------------------------------------------------------------------
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
        asked = {"priority": priority, "state": state, "sourceSystem": source}
        wanted = {name: value for name, value in asked.items() if value is not None}
        if not wanted:
            return self._list_everything(since, until, limit, cursor)
        # archived stories are only in live-state-index (listed only when asked for by state)
        key_name = "state" if state == ARCHIVED_STATE else next(iter(wanted))
        filters = {name: value for name, value in wanted.items() if name != key_name}
        return self.index_page(
            KEY_BY_FILTER[key_name], wanted[key_name], filters, since, until, limit, cursor
        )

    def _list_everything(self, since: str | None, until: str | None, limit: int, cursor: str | None) -> Page:
        """Every live record, newest first: the three sources' partitions of live-source-index (each live,
        not archived record is in exactly one), merged. The cursor is the last row shown, [createdAt,
        sourceRecord], as SQLite's; each page is at least one Query per source."""
        low, high = range_bounds(since, until)
        after = tuple(decode_cursor(cursor, strings(2))) if cursor else None
        if after and not low <= after[0] <= high:
            raise InvalidCursor("that page cursor is not one this store gave out; start again without it")
        found: list[BugRecord] = []
        for source in SOURCES:
            found += self._newest_of(source, low, after[0] if after else high, after, limit + 1)
        found.sort(key=lambda record: (record.created_at, record.source_record), reverse=True)
        records = tuple(found[:limit])
        more = len(found) > limit
        next_cursor = encode_cursor([records[-1].created_at, records[-1].source_record]) if more else None
        return Page(records, next_cursor)

    def _newest_of(
        self, source: str, low: str, high: str, after: tuple[str, ...] | None, wanted: int
    ) -> list[BugRecord]:
        """Up to `wanted` of one source's live records, newest first, before the position `after`.

        Rows sharing a createdAt come back from an index in no set order, so the reading goes on until
        the createdAt of the last row kept is passed: ties at a page's edge are all seen and sorted."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": INDEX_BY_KEY[LIVE_SOURCE],
            "KeyConditionExpression": "#k = :k AND createdAt BETWEEN :low AND :high",
            "ExpressionAttributeNames": {"#k": LIVE_SOURCE},
            "ExpressionAttributeValues": items.serialize({":k": source, ":low": low, ":high": high}),
            "ScanIndexForward": False,
            "Limit": wanted,
        }
        found: list[BugRecord] = []
        while True:
            answer = self.call("query", **request)
            rows = [items.to_record(items.deserialize(item)) for item in answer.get("Items", [])]
            found += [row for row in rows if after is None or (row.created_at, row.source_record) < after]
            if "LastEvaluatedKey" not in answer:
                break
            found.sort(key=lambda record: (record.created_at, record.source_record), reverse=True)
            if len(found) >= wanted and rows and rows[-1].created_at < found[wanted - 1].created_at:
                break
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        found.sort(key=lambda record: (record.created_at, record.source_record), reverse=True)
        return found[:wanted]

    def unlinked_slack(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        rules.check_limit(limit)
        return self.index_page(UNLINKED_SOURCE, "slack", {}, None, None, limit, cursor)

    def index_page(
        self,
        key_name: str,
        key_value: str,
        filters: dict[str, str],
        since: str | None,
        until: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        """One Query of a sparse index (limit + 1 rows: the extra one says whether a next page exists);
        with filters, at most MAX_QUERIES_PER_PAGE Queries and maybe a short page."""
        low, high = range_bounds(since, until)
        names = {"#k": key_name}
        values: dict[str, Any] = {":k": key_value, ":low": low, ":high": high}
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": INDEX_BY_KEY[key_name],
            "KeyConditionExpression": "#k = :k AND createdAt BETWEEN :low AND :high",
            "ScanIndexForward": False,
        }
        if filters:
            conditions = []
            for number, (name, value) in enumerate(filters.items()):
                names[f"#f{number}"], values[f":f{number}"] = name, value
                conditions.append(f"#f{number} = :f{number}")
            request["FilterExpression"] = " AND ".join(conditions)
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = items.serialize(values)
        found: list[dict[str, Any]] = []
        # the index's LastEvaluatedKey: table keys and index keys, inside this query's partition and range
        key_names = {PARTITION_KEY, SORT_KEY, key_name, "createdAt"}
        shape = string_map(
            key_names, lambda key: key[key_name] == key_value and low <= key["createdAt"] <= high
        )
        start = decode_cursor(cursor, shape) if cursor else None
        for _ in range(MAX_QUERIES_PER_PAGE):
            request["Limit"] = limit + 1 - len(found)
            if start:
                request["ExclusiveStartKey"] = items.serialize(start)
            answer = self.call("query", **request)
            found += [items.deserialize(item) for item in answer.get("Items", [])]
            start = items.deserialize(answer["LastEvaluatedKey"]) if "LastEvaluatedKey" in answer else None
            if len(found) > limit or start is None:
                break
        if len(found) > limit:
            found = found[:limit]
            start = {name: found[-1][name] for name in (PARTITION_KEY, SORT_KEY, key_name, "createdAt")}
        records = tuple(items.to_record(item) for item in found)
        return Page(records, encode_cursor(start) if start else None)

    # -- counters ----------------------------------------------------------------------------------
    def counter_actions(self, change: dict[str, int]) -> list[dict[str, Any]]:
        """Update actions adding change: one on the totals item, one per day item touched."""
        by_item: dict[str, dict[str, int]] = {}
        for name, number in change.items():
            if counters.is_total(name):
                by_item.setdefault(TOTALS_ITEM, {})[name] = number
            else:
                day, source = counters.split_day_counter(name)
                by_item.setdefault(DAY_ITEM_PREFIX + day, {})[source] = number
        actions = []
        for sort, adds in sorted(by_item.items()):
            names = {f"#c{n}": name for n, name in enumerate(adds)}
            values = {f":c{n}": number for n, number in enumerate(adds.values())}
            body = {
                "TableName": self.table,
                "Key": items.key(COUNTERS_PARTITION, sort),
                "UpdateExpression": "ADD " + ", ".join(f"{alias} :c{n}" for n, alias in enumerate(names)),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": items.serialize(values),
            }
            actions.append({"Update": body})
        return actions

    def adjust_counters(self, change: dict[str, int]) -> None:
        """Outside a record's commit (a batch write, a recount): one UpdateItem per counter item touched
        (the totals, and each day the batch created records on). Not one transaction: the batch write it
        follows is not atomic either, and a transaction would double the write units."""
        for action in self.counter_actions(change):
            for attempt in range(COUNTER_UPDATE_TRIES):
                try:
                    self.client.update_item(**action["Update"])
                    break
                except ClientError as exc:
                    code = exc.response.get("Error", {}).get("Code", "")
                    if code != "TransactionConflictException" or attempt == COUNTER_UPDATE_TRIES - 1:
                        raise items.map_client_error("update_item", exc, self.table) from exc
                    backoff(attempt)  # a transaction was updating the same counters item: add again
                except BotoCoreError as exc:
                    raise items.map_botocore_error(exc) from exc

    def _counter_items(self, low: str = "#", high: str = "#~") -> Iterator[dict[str, Any]]:
        return self.query_pages(
            KeyConditionExpression="ticketId = :p AND sourceRecord BETWEEN :low AND :high",
            ExpressionAttributeValues=items.serialize({":p": COUNTERS_PARTITION, ":low": low, ":high": high}),
        )

    def read_counters(self) -> dict[str, int]:
        """The counters partition: the totals item and one item per day (one Query, paged past 1 MB)."""
        values: dict[str, int] = {}
        for item in self._counter_items():
            values.update(_counters_of(item))
        return {name: number for name, number in values.items() if number}

    def counts(self) -> Counts:
        """One GetItem: the totals item (eventually consistent, as a GSI read would be)."""
        answer = self.call("get_item", TableName=self.table, Key=items.key(COUNTERS_PARTITION, TOTALS_ITEM))
        return counters.to_counts(_counters_of(items.deserialize(answer.get("Item", {}))))

    def new_per_day(self, since: str, until: str) -> dict[str, dict[str, int]]:
        """One Query of the day items in the range (a 30-day window is ~2 KB: one page)."""
        low, high = range_bounds(since, until)
        values: dict[str, int] = {}
        for item in self._counter_items(DAY_ITEM_PREFIX + low[:10], DAY_ITEM_PREFIX + high[:10]):
            values.update(_counters_of(item))
        return counters.per_day(values, low[:10], high[:10])

    def scan_records(self) -> Iterator[BugRecord]:
        """Every record item: a paged Scan (strongly consistent) reading the fields counts need."""
        wanted: tuple[str, ...] = (
            PARTITION_KEY,
            SORT_KEY,
            "sourceSystem",
            "recordId",
            "createdAt",
            "updatedAt",
        )
        wanted += ("priority", "state", "stateType", "deleted", "movedTo", "title", "url")
        wanted += ("author", "channel", "requester")
        names = {f"#a{number}": name for number, name in enumerate(wanted)}
        projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        for page, _ in self.scan_pages(**projection, ConsistentRead=True):
            yield from (items.to_record(item) for item in page if items.is_record(item))

    # -- impact ----------------------------------------------------------------------------------
    def read_impacts(self, ticket_ids: Iterable[str]) -> dict[str, Impact | None]:
        wanted = list(dict.fromkeys(ticket_ids))
        found = self.batch_get([(ticket_id, IMPACT_ITEM) for ticket_id in wanted])
        return {
            ticket_id: items.to_impact(found[(ticket_id, IMPACT_ITEM)])
            if (ticket_id, IMPACT_ITEM) in found
            else None
            for ticket_id in wanted
        }

    def top_impacts(self, limit: int) -> list[Impact]:
        """One Query of the sparse ranked index, highest first (eventually consistent, as any GSI read)."""
        answer = self.call(
            "query",
            TableName=self.table,
            IndexName=INDEX_BY_KEY[OPEN_IMPACT],
            KeyConditionExpression="openImpact = :open",
            ExpressionAttributeValues={":open": {"S": items.OPEN}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [items.to_impact(items.deserialize(raw)) for raw in answer.get("Items", [])]

    def scan_impacts(self) -> Iterator[Impact]:
        """Every #impact item: a paged Scan (strongly consistent), for the recount."""
        only = {":impact": {"S": IMPACT_ITEM}}
        for page, _ in self.scan_pages(
            FilterExpression="sourceRecord = :impact", ExpressionAttributeValues=only, ConsistentRead=True
        ):
            yield from (items.to_impact(item) for item in page)

    # -- bookkeeping -----------------------------------------------------------------------------
    def ticket_ids_in_use(self) -> set[str]:
        # deleted and archived records are in no list index: a pass over every record (a migration tool)
        return {record.location for record in self.scan_records()}

    def get_meta(self, key: str) -> dict[str, Any] | None:
        item = self.get(items.META_PARTITION, key)
        return item["value"] if item else None

    def put_meta(self, key: str, value: dict[str, Any]) -> None:
        self.put({PARTITION_KEY: items.META_PARTITION, SORT_KEY: key, "value": value})

    def add_meta(self, key: str, value: dict[str, Any]) -> bool:
        item = {PARTITION_KEY: items.META_PARTITION, SORT_KEY: key, "value": value}
        try:
            self.put(item, "attribute_not_exists(ticketId)")
        except ConditionFailed:
            return False
        return True

    def read_list(self, name: str, limit: int) -> list[str]:
        """One Query, newest first (the sort key starts with the member's time)."""
        answer = self.call(
            "query",
            TableName=self.table,
            KeyConditionExpression="ticketId = :p",
            ExpressionAttributeValues=items.serialize({":p": items.LIST_PARTITION + name}),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [items.deserialize(item)["member"] for item in answer.get("Items", [])]


def _counters_of(item: dict[str, Any]) -> dict[str, int]:
    """The counters one item of the counters partition holds, by storage/counters.py name."""
    sort = item.get(SORT_KEY, "")
    numbers = {name: int(value) for name, value in item.items() if name not in (PARTITION_KEY, SORT_KEY)}
    if sort.startswith(DAY_ITEM_PREFIX):
        day = sort[len(DAY_ITEM_PREFIX) :]
        return {counters.day_counter(day, source): number for source, number in numbers.items()}
    return numbers


def _find(partition: list[dict[str, Any]], sort: str) -> dict[str, Any] | None:
    return next((item for item in partition if item[SORT_KEY] == sort), None)


_NAMES = {"#s": "state", "#v": "version"}  # reserved words, or may become one
# An alias item that resolving does not follow: none, or one being unlinked.
_NO_ACTIVE_ALIAS = "attribute_not_exists(ticketId) OR #s = :unlinking"
_LEADS_TO = "targetId = :next AND #s <> :unlinking"


def _version_is(version: int) -> tuple[str, dict[str, Any]]:
    if version == 0:
        return "attribute_not_exists(#v)", {}
    return "#v = :version", {":version": version}


def _lease_is(seen: Lease | None) -> tuple[str, dict[str, Any]]:
    if seen is None:
        return "attribute_not_exists(ticketId)", {}
    return "holder = :holder AND expiresAt = :expires", {":holder": seen.owner, ":expires": seen.expires_at}


class DynamoDBStore(BugStore):
    """The BugStore over one DynamoDB table (the product's store)."""

    port: DynamoDBTable

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        endpoint: str | None = None,
        *,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(DynamoDBTable(client, table_name, endpoint), clock=clock)

    @property
    def client(self) -> DynamoDBClient:
        return self.port.client

    @property
    def table(self) -> str:
        return self.port.table
