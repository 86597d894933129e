"""Shortcut search through a real requests Session against the fake Shortcut over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.pull import UpstreamError
from adapters.shortcut_http import ShortcutHttp
from tests.fakes.shortcut import (
    BACKLOG_STATE,
    PRIORITY_FIELD_ID,
    SEVERITY_FIELD_ID,
    TEAM_FIELD_ID,
    FakeShortcut,
    field_value,
    shortcut_pull,
)

SEARCH = "/api/v3/search/stories"


@pytest.fixture
def fake():
    with FakeShortcut() as server:
        yield server


def _ids(pages):
    return sorted(int(record.record_id) for page in pages for record in page.records)


def test_pages_with_the_largest_size_and_follow_next(fake):
    for story_id in range(1, 601):
        fake.add_story(story_id)
    fake.add_story(601, story_type="feature")
    pull = shortcut_pull(fake)
    pages = list(pull.pull(None))
    assert _ids(pages) == list(range(1, 601))
    searches = [query for _, path, query in fake.requests if path == SEARCH]
    assert len(searches) == 3
    assert searches[0]["page_size"] == ["250"] and searches[0]["query"] == ["type:bug"]
    assert "next" in searches[1] and "next" in searches[2]
    assert pages[0].total_hint == 600
    assert pages[-1].checkpoint["watermark"] and pages[-1].checkpoint["workflow_states"]


def test_more_than_1000_matches_are_split_into_date_windows(fake):
    for story_id in range(1, 2501):
        fake.add_story(story_id, step=timedelta(hours=6))
    pages = list(shortcut_pull(fake).pull(None))
    assert _ids(pages) == list(range(1, 2501))
    assert not any(page.failures for page in pages)
    # no query paged past the API's 1000 results (the fake answers 400 there), at a bounded cost
    assert fake.count(SEARCH) < 2 * (2500 // 250) + 10
    watermarks = [page.checkpoint["watermark"] for page in pages if page.checkpoint]
    assert watermarks == sorted(watermarks) and len(watermarks) > 1


def test_one_busy_day_past_1000_is_reported(fake):
    for story_id in range(1, 1101):
        fake.add_story(story_id, step=timedelta(seconds=1))
    pull = shortcut_pull(fake)
    pages = list(pull.pull({"watermark": "2025-01-01"}))
    failures = [failure for page in pages for failure in page.failures]
    assert len(_ids(pages)) == 1000
    assert failures and "100 stories past the API's 1000-result limit" in failures[0]


def test_incremental_reads_only_the_watermark_window_and_dedupes(fake):
    for story_id in range(1, 11):
        fake.add_story(story_id)
    pull = shortcut_pull(fake)
    first = list(pull.pull(None))
    fake.touch(4)
    again = list(pull.pull(first[-1].checkpoint))
    assert _ids(again) == [4]
    query = [q for _, path, q in fake.requests if path == SEARCH][-1]["query"][0]
    assert query == f"type:bug updated:{first[-1].checkpoint['watermark']}..*"
    # the saved workflow states spare the /workflows request: one request per run when nothing changed
    before = len(fake.requests)
    fresh = shortcut_pull(fake)
    assert _ids(list(fresh.pull(again[-1].checkpoint))) == [4]  # the overlap day, deduped by the store
    assert len(fake.requests) - before == 1


def test_unknown_workflow_state_refreshes_the_cache_once(fake):
    fake.add_story(1)
    pull = shortcut_pull(fake)
    list(pull.pull(None))
    assert fake.count("/workflows") == 1
    fake.add_state(600000001, "Needs Triage", "unstarted")
    fake.add_story(2, workflow_state_id=600000001)
    fake.touch(2)
    pages = list(pull.pull(None))
    record = next(r for page in pages for r in page.records if r.record_id == "2")
    assert (record.state, record.state_type) == ("Needs Triage", "unstarted")
    assert fake.count("/workflows") == 2


def test_429_with_and_without_retry_after_is_waited_out(fake):
    fake.add_story(1)
    waits = []
    pull = shortcut_pull(fake, sleep=waits.append)
    fake.inject(429, headers={"Retry-After": "7"})
    fake.inject(429)
    assert _ids(list(pull.pull(None))) == [1]
    assert waits == [7.0, 4.0] and pull.stats.rate_limit_wait == 11.0


def test_429_past_the_budget_stops_the_run(fake):
    fake.add_story(1)
    pull = shortcut_pull(fake, sleep=lambda _: None, ratelimit_budget=10)
    fake.inject(429, times=3, headers={"Retry-After": "6"})
    with pytest.raises(UpstreamError, match="rate limit"):
        list(pull.pull(None))


def test_5xx_is_retried_then_reported(fake):
    fake.add_story(1)
    fake.inject(503, times=2)
    assert _ids(list(shortcut_pull(fake).pull(None))) == [1]
    fake.inject(500, times=10)
    with pytest.raises(UpstreamError, match="HTTP 500"):
        list(shortcut_pull(fake).pull(None))


def test_bad_token_is_named_but_never_shown(fake):
    fake.add_story(1)
    pull = shortcut_pull(fake)
    fake.token = "the-real-one"
    with pytest.raises(UpstreamError) as raised:
        list(pull.pull(None))
    assert "SHORTCUT_API_TOKEN" in str(raised.value) and "sc-test-token" not in str(raised.value)


def test_self_throttle_keeps_under_the_per_minute_limit(fake):
    now = [0.0]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    http = ShortcutHttp(fake.api_url, fake.token, requests_per_minute=3, sleep=sleep, clock=lambda: now[0])
    workflows = f"{fake.api_url}/workflows"
    for _ in range(3):
        http.get_json(workflows, None)
        now[0] += 1
    assert waits == []
    http.get_json(workflows, None)  # the 4th within a minute waits for the first to age out
    assert waits == [57.0] and http.stats.rate_limit_wait == 57.0
    assert fake.count("/workflows") == 4


def test_priority_comes_from_the_canonical_priority_field_listed_once(fake):
    severity_first = [
        field_value(SEVERITY_FIELD_ID, "Critical"),
        field_value(TEAM_FIELD_ID, "High Street"),
        field_value(PRIORITY_FIELD_ID, "Low"),
    ]
    fake.add_story(1, custom_fields=severity_first)
    fake.add_story(2, custom_fields=[field_value(SEVERITY_FIELD_ID, "High")])
    fake.add_story(3)
    pull = shortcut_pull(fake)
    pages = list(pull.pull(None))
    records = {r.record_id: r for page in pages for r in page.records}
    assert (records["1"].priority, records["1"].priority_raw) == ("Low", "Low")
    assert records["2"].priority is None  # a Severity value is never taken for the priority
    assert fake.count("/custom-fields") == 1
    # cached in the checkpoint: a fresh process resuming from it does not list them again
    fake.touch(1)
    fresh = shortcut_pull(fake)
    again = [r for page in fresh.pull(pages[-1].checkpoint) for r in page.records]
    assert [r.priority for r in again if r.record_id == "1"] == ["Low"]
    assert fake.count("/custom-fields") == 1
    # a field the cache does not know: listed again, once
    fake.custom_fields.append(dict(fake.custom_fields[1], id="5f0c0000-0000-4000-8000-00000000a009"))
    fake.add_story(4, custom_fields=[field_value("5f0c0000-0000-4000-8000-00000000a009", "High")])
    fake.touch(4)
    newer = [r for page in fresh.pull(pages[-1].checkpoint) for r in page.records]
    assert [r.priority for r in newer if r.record_id == "4"] == ["High"]
    assert fake.count("/custom-fields") == 2


def test_backlog_stories_get_the_backlog_type_and_archived_ones_are_not_searched(fake):
    fake.add_story(1, workflow_state_id=BACKLOG_STATE[0])
    fake.add_story(2, archived=True)
    pull = shortcut_pull(fake)
    records = {r.record_id: r for page in pull.pull(None) for r in page.records}
    assert (records["1"].state, records["1"].state_type) == ("Icebox", "backlog")
    assert "2" not in records  # search leaves archived stories out: the recheck finds them


def test_recheck_reads_each_story_and_reports_the_deleted(fake):
    for story_id in (1, 2, 3):
        fake.add_story(story_id, workflow_state_id=500000003)
    fake.touch(2, archived=True)
    fake.delete(3)
    pull = shortcut_pull(fake)
    page, gone = pull.recheck(["1", "2", "3"])
    assert gone == ["3"]
    records = {r.record_id: r for r in page.records}
    assert (records["2"].state, records["2"].state_type) == ("archived", "done")
    assert records["1"].state == "In Development"
    assert fake.count("/api/v3/stories/") == 3 and pull.stats.requests == 4  # + /workflows
