"""The bounded recheck of stored Shortcut stories (deleted: 404; archived), over SQLite and the fake."""

from __future__ import annotations

import pytest

from bot.sync.recheck import run_recheck
from bot.sync.runner import run_sync
from tests.fakes.shortcut import FakeShortcut, shortcut_pull

DAY = 24 * 3600


@pytest.fixture
def synced(sqlite_store):
    with FakeShortcut() as fake:
        for story_id in range(1, 26):
            fake.add_story(story_id, workflow_state_id=500000003)  # all started: all rechecked
        pull = shortcut_pull(fake)
        run_sync(sqlite_store, pull)
        yield sqlite_store, fake, pull


def test_a_sweep_is_bounded_per_run_resumes_and_waits_a_day_once_done(synced):
    store, fake, pull = synced
    start = store.get_meta("sync:shortcut:recheck")["finished"]
    assert run_recheck(store, pull, batch=10, clock=lambda: start + 60) is None  # not due
    fake.delete(3)
    fake.delete(25)
    steps = []
    for _ in range(3):
        before = fake.count("/api/v3/stories/")
        result = run_recheck(store, pull, batch=10, clock=lambda: start + DAY + 1)
        steps.append((result.checked, result.gone, fake.count("/api/v3/stories/") - before))
    assert steps == [(10, 1, 10), (10, 0, 10), (5, 1, 5)]  # newest first: 25 in the first batch
    assert store.get_record("shortcut", "3").deleted and store.get_record("shortcut", "25").deleted
    assert run_recheck(store, pull, batch=10, clock=lambda: start + DAY + 2) is None  # done for a day
    again = run_recheck(store, pull, batch=10, clock=lambda: start + 2 * DAY + 3)
    assert again.checked == 10 and again.gone == 0  # the deleted ones are not asked about again


def test_a_deleted_mark_wins_over_the_stored_copy_and_keeps_its_content(synced):
    store, fake, pull = synced
    before = store.get_record("shortcut", "7")
    store.put_meta("sync:shortcut:recheck", {"cursor": None, "finished": 0})
    fake.delete(7)
    run_recheck(store, pull)
    after = store.get_record("shortcut", "7")
    assert after.deleted and after.title == before.title and after.attributes == before.attributes
    assert after.updated_at == before.updated_at and after.source_version > before.updated_at
    assert "SC-7" not in {r.home_id for r in store.list_records(source="shortcut", limit=100).records}


def test_sources_without_a_recheck_are_left_alone(sqlite_store):
    class Plain:
        name, meta_key = "zendesk", "sync:zendesk"

    assert run_recheck(sqlite_store, Plain()) is None
    assert sqlite_store.get_meta("sync:zendesk:recheck") is None
