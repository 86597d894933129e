"""What moto cannot do: unprocessed batch items, throttling, refused credentials (botocore's Stubber)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from storage import dynamodb_batches
from storage.dynamodb import DynamoDBStore
from storage.dynamodb_items import serialize
from storage.errors import StoreError, StoreUnavailable
from tests.support.builders import zendesk_record


@pytest.fixture
def stubbed(monkeypatch):
    monkeypatch.setattr(dynamodb_batches, "backoff", lambda round_number: None)
    client = boto3.client("dynamodb", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield DynamoDBStore(client, "BugTracker"), stubber
        stubber.assert_no_pending_responses()


def _put_requests(records):
    from storage.dynamodb_items import record_item

    return [{"PutRequest": {"Item": serialize(record_item(r, r.home_id))}} for r in records]


def test_unprocessed_batch_items_are_sent_again_until_written(stubbed):
    store, stubber = stubbed
    records = [zendesk_record(n) for n in range(1, 4)]
    stubber.add_response("batch_get_item", {"Responses": {"BugTracker": []}})  # nothing stored yet
    stubber.add_response("batch_get_item", {"Responses": {"BugTracker": []}})  # no aliases
    everything = _put_requests(records)
    stubber.add_response(
        "batch_write_item",
        {"UnprocessedItems": {"BugTracker": everything[1:]}},
        {"RequestItems": {"BugTracker": everything}},
    )
    stubber.add_response(
        "batch_write_item",
        {"UnprocessedItems": {"BugTracker": everything[2:]}},
        {"RequestItems": {"BugTracker": everything[1:]}},
    )
    stubber.add_response(
        "batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": {"BugTracker": everything[2:]}}
    )
    stubber.add_response("update_item", {})  # the batch's aggregated counter updates: the totals ...
    stubber.add_response("update_item", {})  # ... and the one day its records were created on
    stubber.add_response("batch_get_item", {"Responses": {"BugTracker": []}})  # no impact tallies yet ...
    stubber.add_response("batch_write_item", {"UnprocessedItems": {}})  # ... so theirs written together
    stubber.add_response("batch_get_item", {"Responses": {"BugTracker": []}})  # no link raced the write
    results = store.upsert_many(records)
    assert [r.outcome for r in results] == ["inserted"] * 3


def test_unprocessed_keys_in_batch_reads_are_read_again(stubbed):
    store, stubber = stubbed
    record = zendesk_record(1)
    keys = {"Keys": [{"ticketId": {"S": "ZD-1"}, "sourceRecord": {"S": "zendesk#1"}}], "ConsistentRead": True}
    from storage.dynamodb_items import record_item

    stored = serialize(record_item(record, "ZD-1"))
    stubber.add_response(
        "batch_get_item", {"Responses": {"BugTracker": []}, "UnprocessedKeys": {"BugTracker": keys}}
    )
    stubber.add_response(
        "batch_get_item", {"Responses": {"BugTracker": [stored]}}, {"RequestItems": {"BugTracker": keys}}
    )
    assert [r.outcome for r in store.upsert_many([record])] == ["unchanged"]


def test_items_left_unprocessed_for_good_become_one_clear_error(stubbed):
    store, stubber = stubbed
    everything = _put_requests([zendesk_record(1)])
    stubber.add_response("batch_get_item", {"Responses": {"BugTracker": []}})
    stubber.add_response("batch_get_item", {"Responses": {"BugTracker": []}})
    for _ in range(dynamodb_batches.MAX_BATCH_ROUNDS):
        stubber.add_response("batch_write_item", {"UnprocessedItems": {"BugTracker": everything}})
    with pytest.raises(StoreError, match="unprocessed"):
        store.upsert_many([zendesk_record(1)])


@pytest.mark.parametrize(
    ("code", "error", "message"),
    [
        ("ProvisionedThroughputExceededException", StoreError, "throttling"),
        ("ThrottlingException", StoreError, "throttling"),
        ("ResourceNotFoundException", StoreUnavailable, "does not exist"),
        ("UnrecognizedClientException", StoreUnavailable, "credentials"),
        ("InternalServerError", StoreError, "InternalServerError"),
    ],
)
def test_dynamodb_errors_become_the_stores_own(stubbed, code, error, message):
    store, stubber = stubbed
    stubber.add_client_error("get_item", service_error_code=code, http_status_code=400)
    with pytest.raises(error, match=message):
        store.get_record("zendesk", "1")


def test_a_lost_race_on_update_is_retried_from_a_fresh_read(stubbed):
    store, stubber = stubbed
    from storage.dynamodb_items import record_item

    old = serialize(record_item(zendesk_record(1), "ZD-1"))
    newer = zendesk_record(1, updated=10, status="solved")
    stubber.add_response("get_item", {"Item": old})
    stubber.add_response("batch_get_item", {"Responses": {"BugTracker": []}})  # the bug's impact tally
    # open -> solved changes the counters, so the write is one transaction with their update
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        response_meta={},
    )
    stubber.add_response(
        "get_item", {"Item": serialize(record_item(newer, "ZD-1"))}
    )  # someone wrote it first
    assert store.upsert(newer).outcome == "unchanged"


def test_a_counter_update_colliding_with_a_transaction_is_added_again(stubbed):
    store, stubber = stubbed
    stubber.add_client_error("update_item", service_error_code="TransactionConflictException")
    stubber.add_response("update_item", {})
    store.adjust_counters({"total": 3})
    stubber.assert_no_pending_responses()
