"""Deleted Shortcut stories found by counting stories per creation window against search's totals, over
SQLite and the fake: one request when nothing changed, reads only where counts differ (a small window listed
by creation time in one POST /stories/search, or paged through search when SHORTCUT_QUERY says more than that
can), both readings of a day (settled by the first count when only one fits), resumable, and a wrong
workspace stopped before anything is marked."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from adapters.pull import RateLimited
from bot.sync.recheck import (
    RECHECK_EVERY_SECONDS,
    RecheckStopped,
    recheck_everything,
    recheck_key,
    run_recheck,
)
from bot.sync.runner import run_sync
from tests.fakes.shortcut import FakeShortcut, shortcut_pull

STORIES = "/api/v3/stories/"
SEARCH = "/api/v3/search/stories"
HOUR = 3600


@pytest.fixture
def synced(sqlite_store):
    with FakeShortcut() as fake:
        for story_id in range(1, 61):
            # 1-20 started, 21-40 done, 41-60 archived: any of them can be deleted
            state = 500000003 if story_id <= 20 else 500000005
            fake.add_story(story_id, step=timedelta(hours=9), workflow_state_id=state, archived=story_id > 40)
        pull = shortcut_pull(fake)
        run_sync(sqlite_store, pull)
        yield sqlite_store, fake, pull


POST_SEARCH = "/api/v3/stories/search"


def reads(fake) -> int:
    """GET /stories/{id} requests (not POST /stories/search)."""
    return sum(
        1 for method, path, _ in fake.requests if method == "GET" and re.search(r"/stories/\d+$", path)
    )


def small_windows(monkeypatch) -> None:
    """Windows of a few stories, as at scale: one page is 8 stories, one listing by creation time 16."""
    monkeypatch.setattr("bot.sync.recheck.READ_LIMIT", 8)
    monkeypatch.setattr("bot.sync.recheck.LIST_LIMIT", 16)


def test_nothing_deleted_costs_one_count_and_nothing_is_read(synced):
    store, fake, pull = synced
    for _ in range(2):  # the first too: both readings of a day fit its count, so none is settled by listing
        before = len(fake.requests)
        result = recheck_everything(store, pull)
        assert result.checked == 60 and result.gone == 0
        asked = fake.requests[before:]
        assert [path for _, path, _ in asked if path != "/api/v3/member"] == [SEARCH]
        assert asked[-1][2]["page_size"] == ["1"] and "created:*.." in asked[-1][2]["query"][0]


@pytest.mark.parametrize("days_in_utc", [False, True])
def test_the_first_count_settles_the_reading_when_only_one_fits(sqlite_store, days_in_utc):
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    with FakeShortcut() as fake:  # -08:00
        fake.days_in_utc = days_in_utc
        fake._clock = now - timedelta(days=3)
        for story_id in range(1, 31):  # every 2 h; the last at 00:00 UTC today: yesterday in the workspace
            fake.add_story(story_id, step=timedelta(hours=2))
        pull = shortcut_pull(fake, clock=lambda: now)
        run_sync(sqlite_store, pull)
        before = len(fake.requests)
        result = recheck_everything(sqlite_store, pull)
        assert result.gone == 0
        asked = [path for _, path, _ in fake.requests[before:] if path != "/api/v3/member"]
        if days_in_utc:  # the count fits UTC's reading, but also the workspace's less a deletion: listed
            assert sqlite_store.get_meta(recheck_key(pull))["reading"] == "utc"
            assert asked[0] == SEARCH and len(asked) > 1
        else:  # the count fits the workspace's reading only (UTC's holds fewer): settled by it
            assert sqlite_store.get_meta(recheck_key(pull))["reading"] == "workspace"
            assert asked == [SEARCH]


def test_a_deletion_anywhere_is_found_reading_only_the_windows_that_differ(synced, monkeypatch):
    store, fake, pull = synced
    small_windows(monkeypatch)
    fake.delete(33)  # done, then deleted
    fake.delete(52)  # archived, then deleted
    result = recheck_everything(store, pull)
    assert (result.gone, result.updated) == (2, 0)
    assert store.get_record("shortcut", "33").deleted and store.get_record("shortcut", "52").deleted
    assert reads(fake) == 2  # only the two the listings lacked were read one by one
    assert fake.count(POST_SEARCH) >= 2  # the differing windows were listed by creation time
    assert fake.count(SEARCH) + fake.count(POST_SEARCH) < 16  # counts and listings of differing windows only
    before = fake.count(SEARCH)
    recheck_everything(store, pull)  # now equal again: one count
    assert fake.count(SEARCH) - before == 1


def test_a_window_small_enough_is_listed_in_one_request_instead_of_counted_and_paged(synced, monkeypatch):
    store, fake, pull = synced
    monkeypatch.setattr("bot.sync.recheck.READ_LIMIT", 8)
    fake.delete(44)
    first = recheck_everything(store, pull)  # neither reading fits the count: one listing settles it, once
    assert first.gone == 1 and store.get_record("shortcut", "44").deleted
    fake.delete(45)
    before = len(fake.requests)
    result = recheck_everything(store, pull)  # 59 stored: listable at once (up to LIST_LIMIT)
    assert result.gone == 1 and store.get_record("shortcut", "45").deleted
    asked = [(method, path) for method, path, _ in fake.requests[before:] if path != "/api/v3/member"]
    assert asked == [("GET", SEARCH), ("POST", POST_SEARCH), ("GET", f"{STORIES}45")]


def test_a_query_the_date_time_search_cannot_express_is_paged_through_search(sqlite_store, monkeypatch):
    monkeypatch.setattr("bot.sync.recheck.READ_LIMIT", 8)
    with FakeShortcut() as fake:
        for story_id in range(1, 41):
            fake.add_story(story_id, step=timedelta(hours=9))
        pull = shortcut_pull(fake, query="type:bug label:crash")  # label: has no POST filter here
        run_sync(sqlite_store, pull)
        fake.delete(12)
        result = recheck_everything(sqlite_store, pull)
        assert result.gone == 1 and sqlite_store.get_record("shortcut", "12").deleted
        assert fake.count(POST_SEARCH) == 0 and reads(fake) == 1


def test_either_reading_of_a_day_is_safe(synced, monkeypatch):
    store, fake, pull = synced
    small_windows(monkeypatch)
    fake.days_in_utc = True  # search reads created: in UTC, the store's days are the workspace's (-08:00)
    fake.delete(17)
    result = recheck_everything(store, pull)
    assert result.gone == 1 and store.get_record("shortcut", "17").deleted
    assert sum(store.get_record("shortcut", str(n)).deleted for n in range(1, 61)) == 1


def test_the_schedule_compares_every_few_hours_and_a_stopped_one_resumes(synced, monkeypatch):
    store, fake, pull = synced
    small_windows(monkeypatch)
    start = 1_800_000_000.0
    assert run_recheck(store, pull, clock=lambda: start) is not None
    assert run_recheck(store, pull, clock=lambda: start + HOUR) is None  # not due
    fake.delete(5)
    calls = []
    original = pull.count_created

    def failing(low, high):
        calls.append((low, high))
        if len(calls) == 3:
            raise RuntimeError("the connection dropped")
        return original(low, high)

    monkeypatch.setattr(pull, "count_created", failing)
    with pytest.raises(RuntimeError):
        run_recheck(store, pull, clock=lambda: start + RECHECK_EVERY_SECONDS)
    pending = store.get_meta(recheck_key(pull))["windows"]
    assert pending  # saved as it went
    result = run_recheck(store, pull, clock=lambda: start + RECHECK_EVERY_SECONDS + 60)  # due: unfinished
    assert result is not None and store.get_record("shortcut", "5").deleted
    assert calls[3][0] is not None or calls[3][1] is not None  # resumed from a half, not from the whole


def test_the_explicit_recheck_waits_out_limits_past_a_scheduled_run_s_budget(synced):
    store, fake, _ = synced
    waited: list[float] = []
    pull = shortcut_pull(fake, sleep=waited.append)  # the waits are recorded, not slept
    pull.set_ratelimit_budget(300)  # a scheduled run's SYNC_RATELIMIT_BUDGET_SECONDS
    fake.inject(429, times=2, headers={"Retry-After": "200"})
    with pytest.raises(RateLimited):  # scheduled: 400 s of waiting is past its budget; the next run resumes
        run_recheck(store, pull, clock=lambda: 1_800_000_000.0)
    fake.inject(429, times=2, headers={"Retry-After": "200"})
    result = recheck_everything(store, pull)  # `bugtracker recheck`: waits as long as Shortcut says
    assert result.checked == 60 and sum(waited) >= 600


def test_another_workspace_stops_with_one_line_and_marks_nothing(synced):
    store, fake, pull = synced
    recheck_everything(store, pull)
    fake.workspace_id = "5f1b2c3d-0000-4000-8000-0000000000ff"
    pull._workspace = {}  # a new day: GET /member is read again (once a day)
    checkpoint = store.get_meta(pull.meta_key)
    store.put_meta(pull.meta_key, {**checkpoint, "utc_offset_read": "2000-01-01"})
    for story_id in range(1, 61):
        fake.delete(story_id)
    with pytest.raises(RecheckStopped, match="now reads Shortcut workspace .*ff.* nothing was rechecked"):
        recheck_everything(store, pull)
    assert not any(store.get_record("shortcut", str(n)).deleted for n in range(1, 61))


def test_a_whole_batch_answering_404_stops_and_marks_nothing(synced):
    store, fake, pull = synced
    for story_id in range(1, 61):
        fake.delete(story_id)  # the token's workspace has none of them (and no workspace id was saved)
    with pytest.raises(RecheckStopped, match="every one of the .* answered 404"):
        recheck_everything(store, pull)
    assert not any(store.get_record("shortcut", str(n)).deleted for n in range(1, 61))


def test_a_deleted_mark_wins_over_the_stored_copy_and_keeps_its_content(synced):
    store, fake, pull = synced
    before = store.get_record("shortcut", "7")
    fake.delete(7)
    recheck_everything(store, pull)
    after = store.get_record("shortcut", "7")
    assert after.deleted and after.title == before.title and after.attributes == before.attributes
    assert after.updated_at == before.updated_at and after.source_version > before.updated_at


def test_a_story_whose_type_left_the_query_is_read_once_then_not_again(synced, monkeypatch):
    store, fake, pull = synced
    small_windows(monkeypatch)
    recheck_everything(store, pull)
    fake.touch(7, story_type="feature")  # no longer `type:bug`: the pull will not bring it again
    first = recheck_everything(store, pull)
    assert reads(fake) == 1 and first.updated == 1 and first.gone == 0
    assert store.get_record("shortcut", "7").attributes["story_type"] == "feature"  # stored once
    before = len(fake.requests)
    second = recheck_everything(store, pull)
    asked = [path for _, path, _ in fake.requests[before:] if path != "/api/v3/member"]
    assert asked == [SEARCH] and reads(fake) == 1  # one count, equal: nothing read
    assert second.checked == 59 and not store.get_record("shortcut", "7").deleted
