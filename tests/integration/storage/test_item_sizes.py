"""Records at the bound: every DynamoDB item under 400 KB and every move transaction under 4 MB, measured on
the request bodies botocore sends (moto accepts larger ones than DynamoDB would)."""

import json

from storage.bounds import MAX_RECORD_BYTES, bound_record, record_bytes
from storage.dynamodb import RECORDS_PER_TRANSACTION
from tests.support.builders import slack_record, zendesk_record

ITEM_LIMIT = 400 * 1024
TRANSACTION_LIMIT = 4 * 1024 * 1024


def heaviest(n):
    """A Slack report just under the bound, in 4-byte characters."""
    weight = {"text": "😀" * 8000, "more": "😀" * 7500}  # few, long strings: moto copies items per node
    record = bound_record(slack_record(n, text="😀" * 500, attributes=weight))
    assert MAX_RECORD_BYTES - 8192 < record_bytes(record) <= MAX_RECORD_BYTES
    return record


def item_bytes(item):
    """An item's size as DynamoDB counts it, closely from above: its names and values as UTF-8 JSON."""
    return len(json.dumps(item, ensure_ascii=False).encode())


def test_a_link_moves_heavy_records_in_transactions_under_4_mb(dynamodb_store, dynamodb_client):
    transactions, items = [], []

    def measure(request, operation_name=None, **_):
        body = json.loads(request.body)
        if operation_name == "TransactWriteItems":
            puts = [action["Put"]["Item"] for action in body["TransactItems"] if "Put" in action]
            items.extend(item_bytes(item) for item in puts)
            transactions.append(sum(item_bytes(item) for item in puts))
        elif operation_name == "PutItem":
            items.append(item_bytes(body["Item"]))

    dynamodb_client.meta.events.register("request-created.dynamodb", measure)
    dynamodb_store.upsert(zendesk_record(1))
    count = RECORDS_PER_TRANSACTION + 1  # a full batch and one more
    for n in range(1, count + 1):
        dynamodb_store.upsert_linked(heaviest(n), "ZD-1", "test")  # new reports stored under ZD-1
    dynamodb_store.upsert(zendesk_record(2))
    result = dynamodb_store.link("ZD-1", "ZD-2", "test")
    assert len(result.moved) == count + 1
    full = RECORDS_PER_TRANSACTION * (MAX_RECORD_BYTES - 8192)
    assert any(size > full for size in transactions), "a full batch of heavy records moved in one transaction"
    assert max(transactions) < TRANSACTION_LIMIT and max(items) < ITEM_LIMIT
    heaviest_move, heaviest_item = max(transactions) / 2**20, max(items) / 1024
    print(f"heaviest move transaction {heaviest_move:.2f} MB, heaviest item {heaviest_item:.0f} KB")
