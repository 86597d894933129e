"""Both stores (SQLite, DynamoDB on moto): backfill, then re-syncs that write only what changed.

On DynamoDB the writes are counted at the client (every write API call), so "0 changed -> 0 writes" is
checked where it costs money.
"""

from __future__ import annotations

import time

import pytest

from bot.sync.recheck import RECHECK_EVERY_SECONDS, recheck_everything
from bot.sync.runner import run_sync
from tests.fakes.shortcut import FakeShortcut, shortcut_pull
from tests.fakes.zendesk import FakeZendesk, zendesk_pull

WRITE_CALLS = ("PutItem", "BatchWriteItem", "UpdateItem", "DeleteItem", "TransactWriteItems")


@pytest.fixture
def write_calls(request, store):
    """Names of DynamoDB write calls made during the test (always empty for SQLite)."""
    calls: list[str] = []
    if "dynamodb" in request.node.callspec.params.get("store", ""):
        client = request.getfixturevalue("dynamodb_client")

        def count(model, params, **_kwargs):
            # record writes only: the lease (#lease) is two small writes per run by design
            if model.name in WRITE_CALLS and "#lease" not in str(params):
                calls.append(model.name)

        client.meta.events.register("before-call.dynamodb", count)
    return calls


@pytest.fixture
def fakes(monkeypatch):
    with FakeZendesk() as zendesk, FakeShortcut() as shortcut:
        zendesk.add_tickets(120)
        for story_id in range(1, 61):
            links = [f"https://acme.zendesk.com/agent/tickets/{story_id}"] if story_id % 10 == 0 else []
            shortcut.add_story(story_id, external_links=links)
        yield zendesk, shortcut, zendesk_pull(zendesk, monkeypatch, per_page=50), shortcut_pull(shortcut)


def test_backfill_then_change_only_resyncs(store, fakes, write_calls):
    zendesk, shortcut, zd_pull, sc_pull = fakes
    zd = run_sync(store, zd_pull)
    sc = run_sync(store, sc_pull)
    assert (zd.inserted, zd.failed, zd.error) == (120, 0, None)
    assert (sc.inserted, sc.linked, sc.error) == (60, 6, None)
    assert store.resolve("SC-20") == ("SC-20", "ZD-20")
    if "dynamodb" in store.description.lower():
        assert "BatchWriteItem" in write_calls  # new records in bulk: batch writes, and they are counted
    assert {r.source_record for r in store.show("ZD-20").records} == {"zendesk#20", "shortcut#20"}

    recheck_everything(store, sc_pull)  # the first comparison (the run after a backfill makes it)
    before = len(write_calls)
    idle_zd, idle_sc = run_sync(store, zd_pull), run_sync(store, sc_pull)
    assert (idle_zd.inserted, idle_zd.updated, idle_zd.requests) == (0, 0, 1)
    assert (idle_sc.inserted, idle_sc.updated, idle_sc.requests) == (0, 0, 1)
    assert write_calls[before:] == []  # not even the checkpoint: it did not move

    for ticket_id in (3, 4, 5):
        zendesk.touch(ticket_id, priority="urgent")
    shortcut.touch(7, name="Renamed")
    before = len(write_calls)
    changed_zd, changed_sc = run_sync(store, zd_pull), run_sync(store, sc_pull)
    assert (changed_zd.updated, changed_zd.inserted) == (3, 0)
    assert changed_sc.updated == 1 and changed_sc.inserted == 0
    assert store.get_record("zendesk", "4").priority == "Critical"
    assert store.get_record("shortcut", "7").title == "Renamed"
    if "dynamodb" in store.description.lower():
        # 4 changed records (conditional puts) + 2 checkpoints
        assert (
            sorted(write_calls[before:]).count("PutItem") <= 6
            and "BatchWriteItem" not in write_calls[before:]
        )


def test_a_system_update_moving_only_generated_timestamp_reaches_the_store(store, fakes, write_calls):
    zendesk, _shortcut, zd_pull, _sc_pull = fakes
    run_sync(store, zd_pull)
    before = store.get_record("zendesk", "12")
    zendesk.system_update(12, status="solved")  # a trigger solved it: updated_at does not move
    zendesk.system_update(13, status="deleted")
    zendesk.system_update(14, priority="urgent")
    assert zendesk.tickets[12]["updated_at"] < "2026"  # still the creation-era updated_at
    summary = run_sync(store, zd_pull)
    assert (summary.updated, summary.unchanged, summary.stale, summary.error) == (3, 0, 0, None)
    solved = store.get_record("zendesk", "12")
    assert (solved.state, solved.state_type, solved.updated_at) == ("solved", "done", before.updated_at)
    assert solved.source_version > before.source_version
    assert store.get_record("zendesk", "13").deleted
    assert store.get_record("zendesk", "14").priority == "Critical"
    assert [r.source_record for r in store.show("ZD-13").records] == []  # deleted: hidden by default
    # the next run sees nothing new and writes nothing
    before_writes = len(write_calls)
    assert run_sync(store, zd_pull).updated == 0
    assert write_calls[before_writes:] == []


def test_the_recheck_marks_deleted_stories_done_and_archived_ones_included(store, fakes, write_calls):
    _zendesk, shortcut, _zd_pull, sc_pull = fakes
    run_sync(store, sc_pull)
    shortcut.touch(11, archived=True)  # archived: search returns it with archived: true
    shortcut.touch(12, archived=True)
    assert run_sync(store, sc_pull).rechecked == 60  # the first run after the backfill compares
    assert run_sync(store, sc_pull).rechecked == 0  # and the next one hours later
    shortcut.delete(8)  # Ready for Review
    shortcut.delete(9)  # Done, then deleted
    shortcut.delete(12)  # archived, then deleted: how Shortcut deletes
    compared = store.get_meta("sync:shortcut:recheck")  # a few hours have passed: a comparison is due
    store.put_meta("sync:shortcut:recheck", {**compared, "last": time.time() - RECHECK_EVERY_SECONDS - 1})
    summary = run_sync(store, sc_pull)
    assert (summary.rechecked, summary.gone, summary.error) == (60, 3, None)
    assert summary.line().endswith(
        f"rechecked 60 (3 deleted upstream) ({summary.requests} requests, {summary.seconds:.1f}s)"
    )
    gone = store.get_record("shortcut", "8")
    assert gone.deleted and gone.state == "Ready for Review"
    assert store.get_record("shortcut", "9").deleted and store.get_record("shortcut", "12").deleted
    archived = store.get_record("shortcut", "11")
    assert (archived.state, archived.state_type, archived.deleted) == ("archived", "done", False)
    listed = {r.record_id for r in store.list_records(source="shortcut", limit=100).records}
    assert "8" not in listed and "11" not in listed and "12" not in listed and "13" in listed
    assert store.counts().by_state.get("archived") == 1
    # that comparison is over and the next is hours away: the next run asks nothing more
    requests_before = shortcut.count("/api/v3/stories/")
    assert run_sync(store, sc_pull).rechecked == 0
    assert shortcut.count("/api/v3/stories/") == requests_before
