"""The product's store: one DynamoDB table (storage/schema.py), boto3 client injected.

How the semantics hold on a table whose keys cannot change (see storage/dynamodb_items.py for the items):
- A record away from home leaves a stub at home pointing to where it lives, so an upsert of a known record
  never needs the alias chain: read home, follow the stub, write with `updatedAt = :seen`.
- A link writes its alias first (state moving), then moves records in transactions (each record's old
  place, new place and home stub change together), then marks the alias linked. A record is never in two
  places or none; a killed link is finished by running it again; new records follow the alias at once.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from storage import dynamodb_items as items
from storage import rules
from storage.dynamodb_batches import BatchMixin
from storage.errors import ConcurrentUpdate, LinkRefused
from storage.model import SOURCES, BugRecord, now_timestamp, parse_ticket_id, range_bounds
from storage.paging import decode_cursor, encode_cursor
from storage.schema import PARTITION_KEY, SORT_KEY, create_table_request
from storage.store import (
    BugStore,
    Counts,
    LinkResult,
    Page,
    TicketView,
    UpsertOutcome,
    UpsertResult,
)

MAX_TRIES = 8
RECORDS_PER_TRANSACTION = 30  # a move takes up to 3 actions per record; a transaction holds 100
INDEX_BY_FILTER = {"priority": "priority-index", "state": "state-index", "sourceSystem": "source-index"}


class DynamoDBStore(BatchMixin, BugStore):
    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table = table_name
        self.description = f"DynamoDB table '{table_name}'"
        self.records_per_transaction = RECORDS_PER_TRANSACTION

    # -- plumbing ------------------------------------------------------------------------------
    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**kwargs)
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

    def _action(self, kind: str, body: dict[str, Any], condition: str | None, values: dict[str, Any]) -> dict:
        body = {"TableName": self.table, **body}
        if condition:
            body["ConditionExpression"] = condition
        if values:
            body["ExpressionAttributeValues"] = items.serialize(values)
        return {kind: body}

    def put_action(self, item: dict[str, Any], condition: str | None = None, **values: Any) -> dict:
        return self._action("Put", {"Item": items.serialize(item)}, condition, values)

    def delete_action(self, partition: str, sort: str, condition: str | None = None, **values: Any) -> dict:
        return self._action("Delete", {"Key": items.key(partition, sort)}, condition, values)

    def check_action(self, partition: str, sort: str, condition: str, **values: Any) -> dict:
        return self._action("ConditionCheck", {"Key": items.key(partition, sort)}, condition, values)

    def query_pages(self, **request: Any) -> Iterator[dict[str, Any]]:
        request = {"TableName": self.table, **request}
        while True:
            answer = self.call("query", **request)
            yield from (items.deserialize(item) for item in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

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
        self.client.get_waiter("table_exists").wait(TableName=self.table, WaiterConfig={"Delay": 1})

    def check(self) -> None:
        self.call("describe_table", TableName=self.table)

    # -- aliases -------------------------------------------------------------------------------
    def alias_target(self, ticket_id: str) -> str | None:
        alias = self.get(ticket_id, items.ALIAS)
        return alias["targetId"] if alias else None

    def resolved_home(self, ticket_id: str) -> str:
        return rules.resolve_chain(ticket_id, self.alias_target)[-1]

    def resolve(self, ticket_id: str) -> tuple[str, ...]:
        return rules.resolve_chain(parse_ticket_id(ticket_id), self.alias_target)

    # -- upsert --------------------------------------------------------------------------------
    def upsert(self, record: BugRecord) -> UpsertResult:
        for _ in range(MAX_TRIES):
            try:
                return self._upsert_once(record, self.get(record.home_id, record.source_record))
            except items.ConditionFailed:
                continue  # another writer or a link moved it meanwhile: read again
        raise ConcurrentUpdate(f"{record.source_record} kept changing while we wrote it; try again")

    def locate(self, record: BugRecord, at_home: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if "movedTo" not in at_home:
            return record.home_id, at_home
        stored = self.get(at_home["movedTo"], record.source_record)
        if stored is None:
            raise items.ConditionFailed("moved while reading")
        return at_home["movedTo"], stored

    def _upsert_once(self, record: BugRecord, at_home: dict[str, Any] | None) -> UpsertResult:
        if at_home is None:
            return self._insert(record)
        location, stored = self.locate(record, at_home)
        return self._update(record, location, stored)

    def _update(self, record: BugRecord, location: str, stored: dict[str, Any]) -> UpsertResult:
        outcome = rules.compare(items.to_record(stored), record)
        if outcome is UpsertOutcome.UPDATED:
            condition, values = items.unchanged_since_read(stored)
            self.put(
                items.record_item(record, location),
                f"attribute_not_exists(movedTo) AND {condition}",
                **values,
            )
        return UpsertResult(outcome, location)

    def _insert(self, record: BugRecord) -> UpsertResult:
        chain = rules.resolve_chain(record.home_id, self.alias_target)
        location = chain[-1]
        actions = [
            self.put_action(items.record_item(record, location), "attribute_not_exists(ticketId)"),
            self.check_action(location, items.ALIAS, "attribute_not_exists(ticketId)"),
        ]
        if location != record.home_id:
            stub = {PARTITION_KEY: record.home_id, SORT_KEY: record.source_record, "movedTo": location}
            actions.append(self.put_action(stub, "attribute_not_exists(ticketId)"))
        # The chain must still hold when we write, or the record would land under a stale id.
        for hop, following in zip(chain, chain[1:], strict=False):
            actions.append(self.check_action(hop, items.ALIAS, "targetId = :next", **{":next": following}))
        self.transact(actions)
        return UpsertResult(UpsertOutcome.INSERTED, location)

    def upsert_linked(self, record: BugRecord, target_id: str, actor: str) -> tuple[UpsertResult, LinkResult]:
        """A new record whose home id is not linked yet: record, home stub, alias and audit in one
        transaction, so it lives under the target from the start. Anything else: upsert, then link."""
        target_id = parse_ticket_id(target_id)
        home, sort = record.home_id, record.source_record
        if home != target_id and self.get(home, sort) is None and self.get(home, items.ALIAS) is None:
            chain = rules.resolve_chain(target_id, self.alias_target)
            if home not in chain:
                try:
                    return self._insert_linked(record, target_id, chain, actor)
                except items.ConditionFailed:
                    pass  # another writer got there first: the general path below sorts it out
        return super().upsert_linked(record, target_id, actor)

    def _insert_linked(
        self, record: BugRecord, target_id: str, chain: tuple[str, ...], actor: str
    ) -> tuple[UpsertResult, LinkResult]:
        home, sort, destination, now = record.home_id, record.source_record, chain[-1], now_timestamp()
        alias = {
            PARTITION_KEY: home,
            SORT_KEY: items.ALIAS,
            "targetId": target_id,
            "destination": destination,
        }
        alias.update(state="linked", actor=actor, at=now)
        actions = [
            self.put_action(alias, "attribute_not_exists(ticketId)"),
            self.put_action(
                {PARTITION_KEY: home, SORT_KEY: sort, "movedTo": destination},
                "attribute_not_exists(ticketId)",
            ),
            self.put_action(items.record_item(record, destination), "attribute_not_exists(ticketId)"),
            self.check_action(destination, items.ALIAS, "attribute_not_exists(ticketId)"),
            *self._audit_actions({home, destination}, "link", home, target_id, actor, now, 1),
        ]
        for hop, following in zip(chain, chain[1:], strict=False):
            actions.append(self.check_action(hop, items.ALIAS, "targetId = :next", **{":next": following}))
        self.transact(actions)
        return UpsertResult(UpsertOutcome.INSERTED, destination), LinkResult(
            home, target_id, destination, (sort,)
        )

    def get_record(self, source_system: str, record_id: str) -> BugRecord | None:
        probe = BugRecord(source_system, record_id, "", "")
        for _ in range(MAX_TRIES):
            at_home = self.get(probe.home_id, probe.source_record)
            if at_home is None:
                return None
            try:
                return items.to_record(self.locate(probe, at_home)[1])
            except items.ConditionFailed:
                continue  # moved between our two reads: read again
        raise ConcurrentUpdate(f"{probe.source_record} kept moving while we read it; try again")

    # -- link / unlink -------------------------------------------------------------------------
    def link(self, source_id: str, target_id: str, actor: str) -> LinkResult:
        source_id, target_id = parse_ticket_id(source_id), parse_ticket_id(target_id)
        if source_id == target_id:
            raise LinkRefused(f"cannot link {source_id} to itself")
        for _ in range(MAX_TRIES):
            alias = self.get(source_id, items.ALIAS)
            if alias is not None:
                rules.check_relink(source_id, target_id, alias["targetId"])
                if alias["state"] == "linked":
                    return LinkResult(source_id, target_id, self.resolve(target_id)[-1], (), already=True)
                return self._finish_link(source_id, target_id, alias["destination"], actor)
            chain = rules.resolve_chain(target_id, self.alias_target)
            has_records = any(items.is_record(item) for item in self.partition(source_id))
            rules.check_link(source_id, target_id, chain, has_records)
            destination = chain[-1]
            alias_item = {
                PARTITION_KEY: source_id,
                SORT_KEY: items.ALIAS,
                "targetId": target_id,
                "destination": destination,
                "state": "moving",
                "actor": actor,
                "at": now_timestamp(),
            }
            marker = {PARTITION_KEY: destination, SORT_KEY: items.INCOMING + source_id, "actor": actor}
            actions = [
                self.put_action(alias_item, "attribute_not_exists(ticketId)"),
                self.put_action(marker),
                self.check_action(destination, items.ALIAS, "attribute_not_exists(ticketId)"),
            ]
            for hop, following in zip(chain, chain[1:], strict=False):
                actions.append(
                    self.check_action(hop, items.ALIAS, "targetId = :next", **{":next": following})
                )
            try:
                self.transact(actions)
            except items.ConditionFailed:
                continue  # a link of one of these ids happened meanwhile: look again
            return self._finish_link(source_id, target_id, destination, actor)
        raise ConcurrentUpdate(f"{source_id} and {target_id} kept changing; try the link again")

    def _finish_link(self, source_id: str, target_id: str, destination: str, actor: str) -> LinkResult:
        def finish(moved: int) -> list[dict]:
            alias_linked = {
                "Key": items.key(source_id, items.ALIAS),
                "UpdateExpression": "SET #s = :linked",
                "ExpressionAttributeNames": {"#s": "state"},
            }
            return [
                self._action("Update", alias_linked, None, {":linked": "linked"}),
                self.delete_action(destination, items.INCOMING + source_id),
                *self._audit_actions(
                    {source_id, destination}, "link", source_id, target_id, actor, now_timestamp(), moved
                ),
            ]

        moved = self.move_records(source_id, lambda _home: destination, finish)
        return LinkResult(source_id, target_id, destination, tuple(moved))

    def unlink(self, ticket_id: str, actor: str) -> LinkResult:
        ticket_id = parse_ticket_id(ticket_id)
        alias = self.get(ticket_id, items.ALIAS)
        target = rules.check_unlink(ticket_id, alias["targetId"] if alias else None)
        if alias["state"] == "moving":
            self._finish_link(ticket_id, target, alias["destination"], alias["actor"])
        location = rules.resolve_chain(target, self.alias_target)[-1]

        @functools.cache  # one lookup per alias, however many records share it
        def without_this_alias(candidate: str) -> str | None:
            return None if candidate == ticket_id else self.alias_target(candidate)

        def new_home(home: str) -> str:
            return rules.resolve_chain(home, without_this_alias)[-1]

        now = now_timestamp()
        # The alias goes first: from then on new records of ticket_id stay home, and moved ones follow stubs.
        self.transact(
            [
                self.delete_action(ticket_id, items.ALIAS, "targetId = :t", **{":t": target}),
                *self._audit_actions({ticket_id, location}, "unlink", ticket_id, target, actor, now, 0),
            ]
        )
        moved = self.move_records(location, new_home)
        return LinkResult(ticket_id, target, location, tuple(moved))

    def _audit_actions(
        self, ticket_ids: set[str], action: str, from_id: str, to_id: str, actor: str, at: str, moved: int
    ) -> list[dict]:
        event = f"{items.AUDIT}{at}#{uuid.uuid4().hex[:12]}"
        return [
            self.put_action(
                {
                    PARTITION_KEY: ticket_id,
                    SORT_KEY: event,
                    "action": action,
                    "fromId": from_id,
                    "toId": to_id,
                    "actor": actor,
                    "at": at,
                    "moved": moved,
                }
            )
            for ticket_id in sorted(ticket_ids)
        ]

    def move_records(
        self,
        location: str,
        destination_of: Callable[[str], str],
        finish: Callable[[int], list[dict]] | None = None,
    ) -> list[str]:
        """Move each record under location to destination_of(its home), in transactions, until none is left
        to move. A transaction that loses a race with an upsert is read again and retried. `finish(moved)`
        gives bookkeeping actions that ride in the last transaction (one transaction fewer per link)."""
        moved: list[str] = []
        for _ in range(MAX_TRIES * 4):
            pending = [
                (item, destination_of(item["homeId"]))
                for item in self.partition(location)
                if items.is_record(item)
            ]
            pending = [(item, destination) for item, destination in pending if destination != location]
            size = self.records_per_transaction
            chunks = [pending[start : start + size] for start in range(0, len(pending), size)] or [[]]
            for number, chunk in enumerate(chunks):
                actions = [a for item, to in chunk for a in self._move_actions(item, location, to)]
                last = number == len(chunks) - 1
                if last and finish is not None:
                    actions += finish(len(moved) + len(chunk))
                try:
                    if actions:
                        self.transact(actions)
                except items.ConditionFailed:
                    break
                moved.extend(item[SORT_KEY] for item, _ in chunk)
                if last:
                    return moved
        raise ConcurrentUpdate(f"records under {location} kept changing while they were moved; run it again")

    def _move_actions(self, item: dict[str, Any], source: str, destination: str) -> list[dict]:
        sort, home = item[SORT_KEY], item["homeId"]
        unchanged, seen = items.unchanged_since_read(item)
        stub_to = {PARTITION_KEY: home, SORT_KEY: sort, "movedTo": destination}
        actions = []
        if home == source:
            actions.append(self.put_action(stub_to, f"{unchanged} AND attribute_not_exists(movedTo)", **seen))
        else:
            actions.append(self.delete_action(source, sort, unchanged, **seen))
        moved_item = {**item, PARTITION_KEY: destination}
        if home == destination:
            actions.append(self.put_action(moved_item, "movedTo = :from", **{":from": source}))
        else:
            actions.append(self.put_action(moved_item, "attribute_not_exists(ticketId)"))
        if home not in (source, destination):
            actions.append(self.put_action(stub_to, "movedTo = :from", **{":from": source}))
        return actions

    # -- reads ---------------------------------------------------------------------------------
    def show(self, ticket_id: str, include_deleted: bool = False) -> TicketView:
        requested = parse_ticket_id(ticket_id)
        chain = [requested]
        partition = self.partition(requested)
        audit = [items.to_audit(item) for item in partition if item[SORT_KEY].startswith(items.AUDIT)]
        alias = _find(partition, items.ALIAS)
        while alias is not None and len(chain) <= rules.MAX_CHAIN and alias["targetId"] not in chain:
            chain.append(alias["targetId"])
            partition = self.partition(chain[-1])
            alias = _find(partition, items.ALIAS)
        if len(chain) > 1:
            audit += [items.to_audit(item) for item in partition if item[SORT_KEY].startswith(items.AUDIT)]
        records = [items.to_record(item) for item in partition if items.is_record(item)]
        incoming = [item for item in partition if item[SORT_KEY].startswith(items.INCOMING)]
        for marker in incoming:  # a link still moving records in: show them where they are now
            source = marker[SORT_KEY][len(items.INCOMING) :]
            records += [items.to_record(item) for item in self.partition(source) if items.is_record(item)]
        view_audit = rules.unique_audit(audit)
        return rules.build_view(requested, tuple(chain), records, view_audit, include_deleted, bool(incoming))

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
        wanted = {"priority": priority, "state": state, "sourceSystem": source}
        wanted = {name: value for name, value in wanted.items() if value is not None}
        key_name = next(iter(wanted))
        filters = {name: value for name, value in wanted.items() if name != key_name}
        return self.index_page(key_name, wanted[key_name], filters, since, until, limit, cursor)

    def unlinked_slack(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        rules.check_limit(limit)
        return self.index_page("sourceSystem", "slack", {}, None, None, limit, cursor, unlinked_only=True)

    def index_page(
        self,
        key_name: str,
        key_value: str,
        filters: dict[str, str],
        since: str | None,
        until: str | None,
        limit: int,
        cursor: str | None,
        unlinked_only: bool = False,
    ) -> Page:
        low, high = range_bounds(since, until)
        names = {"#k": key_name, "#deleted": "deleted"}
        values: dict[str, Any] = {":k": key_value, ":low": low, ":high": high, ":no": False}
        conditions = ["#deleted = :no"]
        for number, (name, value) in enumerate(filters.items()):
            names[f"#f{number}"], values[f":f{number}"] = name, value
            conditions.append(f"#f{number} = :f{number}")
        if unlinked_only:
            names["#home"] = "homeId"
            conditions.append("ticketId = #home")
        request = {
            "TableName": self.table,
            "IndexName": INDEX_BY_FILTER[key_name],
            "KeyConditionExpression": "#k = :k AND createdAt BETWEEN :low AND :high",
            "FilterExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": items.serialize(values),
            "ScanIndexForward": False,
        }
        found: list[BugRecord] = []
        start = decode_cursor(cursor) if cursor else None
        while len(found) < limit:
            request["Limit"] = limit - len(found)
            if start:
                request["ExclusiveStartKey"] = items.serialize(start)
            answer = self.call("query", **request)
            found += [items.to_record(items.deserialize(item)) for item in answer.get("Items", [])]
            start = items.deserialize(answer["LastEvaluatedKey"]) if "LastEvaluatedKey" in answer else None
            if start is None:
                break
        return Page(tuple(found), encode_cursor(start) if start else None)

    def _source_rows(self, source: str, low: str, high: str, attributes: Iterable[str]) -> Iterator[dict]:
        names = {f"#a{number}": name for number, name in enumerate(attributes)}
        return self.query_pages(
            IndexName="source-index",
            KeyConditionExpression="sourceSystem = :s AND createdAt BETWEEN :low AND :high",
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=items.serialize({":s": source, ":low": low, ":high": high}),
        )

    def counts(self) -> Counts:
        counts = Counts()
        wanted = (PARTITION_KEY, SORT_KEY, "sourceSystem", "recordId", "createdAt", "updatedAt", "priority")
        wanted += ("state", "stateType", "deleted")
        for source in SOURCES:
            for row in self._source_rows(source, "0000", "9999", wanted):
                counts.add(items.to_record(row))
        return counts

    def new_per_day(self, since: str, until: str) -> dict[str, dict[str, int]]:
        low, high = range_bounds(since, until)
        result: dict[str, dict[str, int]] = {}
        for source in SOURCES:
            for row in self._source_rows(source, low, high, ("createdAt", "deleted")):
                if not row.get("deleted"):
                    days = result.setdefault(source, {})
                    days[row["createdAt"][:10]] = days.get(row["createdAt"][:10], 0) + 1
        return {source: dict(sorted(days.items())) for source, days in result.items()}

    # -- bookkeeping -----------------------------------------------------------------------------
    def get_meta(self, key: str) -> dict[str, Any] | None:
        item = self.get(items.META_PARTITION, key)
        return item["value"] if item else None

    def put_meta(self, key: str, value: dict[str, Any]) -> None:
        self.put({PARTITION_KEY: items.META_PARTITION, SORT_KEY: key, "value": value})

    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        now = time.time()
        lease = {
            PARTITION_KEY: items.LEASE_PARTITION,
            SORT_KEY: name,
            "holder": owner,
            "expiresAt": now + ttl_seconds,
        }
        try:
            self.put(
                lease,
                "attribute_not_exists(ticketId) OR expiresAt < :now OR holder = :me",
                **{":now": now, ":me": owner},
            )
        except items.ConditionFailed:
            return False
        return True

    def release_lease(self, name: str, owner: str) -> None:
        try:
            self.call(
                "delete_item",
                TableName=self.table,
                Key=items.key(items.LEASE_PARTITION, name),
                ConditionExpression="holder = :me",
                ExpressionAttributeValues=items.serialize({":me": owner}),
            )
        except items.ConditionFailed:
            pass  # someone else holds it now (ours expired): nothing of ours to give up


def _find(partition: list[dict[str, Any]], sort: str) -> dict[str, Any] | None:
    return next((item for item in partition if item[SORT_KEY] == sort), None)
