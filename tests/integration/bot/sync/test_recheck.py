"""The rotating recheck of stored Shortcut stories (deleted: 404), done and archived ones included, over
SQLite and the fake."""

from __future__ import annotations

import pytest

from bot.sync.recheck import RECHECK_SWEEP_SECONDS, recheck_everything, recheck_key, run_recheck
from bot.sync.runner import run_sync
from tests.fakes.shortcut import FakeShortcut, shortcut_pull

DAY = 24 * 3600
STORIES = "/api/v3/stories/"


@pytest.fixture
def synced(sqlite_store):
    with FakeShortcut() as fake:
        for story_id in range(1, 31):
            # 1-10 started, 11-20 done, 21-30 archived: all of them are rechecked
            state = 500000003 if story_id <= 10 else 500000005
            fake.add_story(story_id, workflow_state_id=state, archived=story_id > 20)
        pull = shortcut_pull(fake)
        run_sync(sqlite_store, pull)
        yield sqlite_store, fake, pull


def test_the_rotation_covers_every_story_within_six_days_at_its_pace(synced):
    store, fake, pull = synced
    start = store.get_meta(recheck_key(pull))["started"]
    assert run_recheck(store, pull, clock=lambda: start + 60) is None  # nothing due a minute in
    fake.delete(25)  # archived, then deleted: the way Shortcut deletes
    fake.delete(15)  # done, then deleted
    asked = []
    for day in range(1, 7):
        before = fake.count(STORIES)
        result = run_recheck(store, pull, clock=lambda day=day: start + day * DAY)
        asked.append(fake.count(STORIES) - before)
        assert result is not None and result.checked == asked[-1]
    # 30 stories paced over six days (29 once 15 is marked deleted: it is no longer counted)
    assert max(asked) <= 6 and sum(asked) >= 29, asked
    assert store.get_record("shortcut", "25").deleted and store.get_record("shortcut", "15").deleted
    state = store.get_meta(recheck_key(pull))
    assert (state["phase"], state["checked"]) == ("live", 0)  # that sweep ended; the next one started
    assert state["started"] == start + 6 * DAY


def test_a_day_never_spends_more_than_the_budget_and_a_run_more_than_the_batch(synced):
    store, fake, pull = synced
    start = store.get_meta(recheck_key(pull))["started"]
    late = start + RECHECK_SWEEP_SECONDS  # far behind: every story is due
    assert run_recheck(store, pull, batch=4, clock=lambda: late).checked == 4
    assert run_recheck(store, pull, batch=100, daily_budget=10, clock=lambda: late + 1).checked == 6
    assert run_recheck(store, pull, batch=100, daily_budget=10, clock=lambda: late + 2) is None
    assert fake.count(STORIES) == 10


def test_recheck_everything_reads_every_stored_story_once(synced):
    store, fake, pull = synced
    fake.delete(3)
    fake.delete(28)
    fake.touch(7, archived=True)
    result = recheck_everything(store, pull)
    # 7 turned archived during the sweep: asked about again in the archived list
    assert (result.checked, result.gone, result.updated) == (31, 2, 1)
    assert fake.count(STORIES) == 31
    assert store.get_record("shortcut", "28").deleted
    assert store.get_record("shortcut", "7").state == "archived"
    # the next full recheck no longer asks about the deleted ones
    assert recheck_everything(store, pull).checked == 28


def test_a_deleted_mark_wins_over_the_stored_copy_and_keeps_its_content(synced):
    store, fake, pull = synced
    before = store.get_record("shortcut", "7")
    fake.delete(7)
    recheck_everything(store, pull)
    after = store.get_record("shortcut", "7")
    assert after.deleted and after.title == before.title and after.attributes == before.attributes
    assert after.updated_at == before.updated_at and after.source_version > before.updated_at
    assert "SC-7" not in {r.home_id for r in store.list_records(source="shortcut", limit=100).records}


def test_a_sweep_saved_in_the_older_format_starts_afresh(synced):
    store, _fake, pull = synced
    store.put_meta(recheck_key(pull), {"cursor": None, "finished": 0})
    assert run_recheck(store, pull, clock=lambda: 10_000.0) is None
    assert store.get_meta(recheck_key(pull))["started"] == 10_000.0


def test_sources_without_a_recheck_are_left_alone(sqlite_store):
    class Plain:
        name, meta_key = "zendesk", "sync:zendesk"

    assert run_recheck(sqlite_store, Plain()) is None
    assert sqlite_store.get_meta("sync:zendesk:recheck") is None
