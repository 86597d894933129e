"""A forged, mangled or misplaced page cursor is InvalidCursor (one line) on both stores, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.paging import InvalidCursor, encode_cursor
from tests.support.builders import slack_record, zendesk_record

FORGED = [
    "MQ",  # base64 of 1
    "not-a-cursor!",
    "",
    "A" * 5000,
    encode_cursor([1, 2]),
    encode_cursor(["2026-11-01T00:00:00.000000Z"]),
    encode_cursor(["a", "b", "c"]),
    encode_cursor({"ticketId": "ZD-1"}),
    encode_cursor({"a": {"b": {"c": [1] * 3}}}),
    encode_cursor(None),
    encode_cursor("x" * 100),
    encode_cursor([[[[[[[]]]]]]]),
    "W" * 3 + "=",
    "eyJ9",  # base64 of '{"}' (truncated JSON)
]


@pytest.fixture
def paged(store):
    store.upsert_many([zendesk_record(n) for n in range(1, 6)] + [slack_record(n) for n in range(10, 15)])
    return store


@pytest.mark.parametrize("cursor", [c for c in FORGED if c])
def test_a_forged_cursor_is_refused_with_one_line(paged, cursor):
    for listing in (
        lambda: paged.list_records(priority="High", cursor=cursor),
        lambda: paged.list_records(source="slack", cursor=cursor),
        lambda: paged.unlinked_slack(cursor=cursor),
    ):
        with pytest.raises(InvalidCursor, match="not one this store gave out"):
            listing()


def test_a_cursor_of_one_listing_is_refused_by_another_on_dynamodb(dynamodb_store):
    """DynamoDB's cursor names its index and partition: used elsewhere it is refused, not sent to AWS."""
    dynamodb_store.upsert_many(
        [zendesk_record(n) for n in range(1, 6)] + [slack_record(n) for n in range(10, 15)]
    )
    by_priority = dynamodb_store.list_records(priority="High", limit=2).next_cursor
    by_source = dynamodb_store.list_records(source="slack", limit=2).next_cursor
    assert by_priority and by_source
    with pytest.raises(InvalidCursor):
        dynamodb_store.list_records(source="slack", cursor=by_priority)
    with pytest.raises(InvalidCursor):
        dynamodb_store.list_records(source="zendesk", cursor=by_source)
    with pytest.raises(InvalidCursor):  # outside the date range asked for
        dynamodb_store.list_records(source="slack", cursor=by_source, since="2030-01-01")
    assert len(dynamodb_store.list_records(source="slack", cursor=by_source, limit=50).records) == 3


def test_a_genuine_cursor_still_pages(paged):
    first = paged.list_records(source="zendesk", limit=2)
    rest = paged.list_records(source="zendesk", limit=10, cursor=first.next_cursor)
    assert len(first.records) + len(rest.records) == 5


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    st.text(max_size=300)
    | st.builds(
        encode_cursor,
        st.recursive(
            st.none() | st.text(max_size=20) | st.integers(),
            lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4),
            max_leaves=12,
        ),
    )
)
def test_any_cursor_text_pages_or_is_refused(store, cursor):
    try:
        store.list_records(source="slack", cursor=cursor or None)
    except InvalidCursor:
        pass  # the only error allowed: anything else fails the test


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_a_well_shaped_forged_dynamodb_key_pages_or_is_refused(dynamodb_store, ticket, record, created):
    key = {"ticketId": ticket, "sourceRecord": record, "sourceSystem": "slack", "createdAt": created}
    try:
        dynamodb_store.list_records(source="slack", cursor=encode_cursor(key))
    except InvalidCursor:
        pass
