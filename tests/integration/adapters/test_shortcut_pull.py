"""Shortcut search through a real requests Session against the fake Shortcut over HTTP."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from adapters.pull import UpstreamError
from adapters.shortcut_http import REQUESTS_PER_MINUTE, ShortcutHttp
from tests.fakes.rate_window import RateWindow
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
POST_SEARCH = "/api/v3/stories/search"


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


def test_a_backfill_reads_history_before_the_workspace_back_from_its_creation_near_one_request_a_page(fake):
    created = datetime(2025, 1, 1, tzinfo=UTC)  # the fake workspace's created_at (GET /member)
    step = (datetime.now(UTC) - timedelta(hours=1) - created) / 3000  # 3,000 since, up to now
    fake._clock = created - 1200 * step  # after 1,200 imported from before it, at the same pace
    for story_id in range(1, 4201):
        fake.add_story(story_id, step=step)
    pages = list(shortcut_pull(fake).pull(None))
    assert _ids(pages) == list(range(1, 4201)) and not any(page.failures for page in pages)
    queries = [query["query"][0] for _, path, query in fake.requests if path == SEARCH and "query" in query]
    assert not any("2014-" in text or "2015-" in text for text in queries)  # no empty windows from 2014
    # 17 full pages' worth: the two first pages that size the history and the workspace's own days, and one
    # partly filled last page for each of the two parts (full windows of 4 pages before it)
    assert fake.count(SEARCH) <= 17 + 2 + 2


def test_windows_keep_clear_of_the_cap_when_changes_do_not_spread_evenly(fake):
    gaps = random.Random(1).choices([1, 6], weights=[5, 2], k=6000)  # busy weekdays, quiet weekends
    fake._clock = datetime.now(UTC) - timedelta(hours=sum(gaps) + 1)
    for story_id, gap in enumerate(gaps, 1):
        fake.add_story(story_id, step=timedelta(hours=gap))
    pages = list(shortcut_pull(fake).pull(None))
    assert _ids(pages) == list(range(1, 6001)) and not any(page.failures for page in pages)
    # 24 pages' worth and the two that size the history: windows cut to the brim would often reach the cap
    # and be read again (44 requests); with their slack shared out, few do
    assert fake.count(SEARCH) <= 24 + 2 + 10


def test_a_day_with_2500_changes_is_read_whole_by_time(fake):
    # 2,500 stories changed within one workspace day (US-Pacific: 16:00-22:57 on 2024-12-31)
    for story_id in range(1, 2501):
        fake.add_story(story_id, step=timedelta(seconds=10))
    pages = list(shortcut_pull(fake).pull(None))
    assert _ids(pages) == list(range(1, 2501))
    assert not any(page.failures for page in pages)
    posts = [query for method, path, query in fake.requests if path == POST_SEARCH]
    # halved by time until each part is under the cap: a capped answer costs one request more
    assert 3 <= len(posts) <= 20
    assert pages[0].total_hint == 2500
    watermarks = [page.checkpoint["watermark"] for page in pages if page.checkpoint]
    assert watermarks == sorted(watermarks) and "2024-12-31" in watermarks


def test_a_post_search_answering_the_real_400_is_split_too():
    with FakeShortcut(post_cap="error") as fake:
        for story_id in range(1, 1301):
            fake.add_story(story_id, step=timedelta(seconds=10))
        pages = list(shortcut_pull(fake).pull(None))
    assert _ids(pages) == list(range(1, 1301)) and not any(page.failures for page in pages)


def test_more_than_1000_changes_in_one_second_say_how_many_were_not_read(fake):
    for story_id in range(1, 1101):
        fake.add_story(story_id, step=timedelta(0))  # a bulk edit: one second for all
    pages = list(shortcut_pull(fake).pull(None))
    failures = [failure for page in pages for failure in page.failures]
    assert len(_ids(pages)) == 1000
    assert failures == [
        "Shortcut: 100 of the 1100 stories updated on 2024-12-31 (workspace time) could not be read:"
        " more than 1000 of them changed within one second"
    ]


def test_a_query_the_date_time_search_cannot_express_reports_the_day_it_could_not_read(fake):
    for story_id in range(1, 1101):
        fake.add_story(story_id, step=timedelta(seconds=10))
    pages = list(shortcut_pull(fake, query="type:bug owner:alice").pull(None))
    failures = [failure for page in pages for failure in page.failures]
    assert len(failures) == 1 and failures[0].startswith(
        "Shortcut: 850 of the 1100 stories updated on 2024-12-31 (workspace time) could not be read:"
    )
    assert fake.count(POST_SEARCH) == 0


def test_a_story_changed_late_in_the_workspace_evening_is_read_by_the_next_run(fake):
    """US-Pacific: a run at 23:59 UTC, one just after midnight UTC, then a story changed at 23:30 local
    (07:30 UTC the next UTC day): the next run's `updated:` day still covers it."""
    runs = iter(
        datetime(2026, 12, day, hour, minute, tzinfo=UTC)
        for day, hour, minute in ((5, 23, 59), (6, 0, 4), (6, 7, 34))
    )
    pull = shortcut_pull(fake, clock=lambda: next(runs))
    fake.add_story(1, updated_at="2026-12-05T20:00:00Z", created_at="2026-12-05T20:00:00Z")
    checkpoint = [page for page in pull.pull(None) if page.checkpoint][-1].checkpoint
    checkpoint = [page for page in pull.pull(checkpoint) if page.checkpoint][-1].checkpoint
    assert checkpoint["watermark"] == "2026-12-05"  # the workspace's day two hours before the run
    fake.add_story(2, updated_at="2026-12-06T07:30:00Z", created_at="2026-12-06T07:30:00Z")
    assert 2 in _ids(list(pull.pull(checkpoint)))
    # the offset is read once a UTC day (the 5th, the 6th), kept in the checkpoint in between
    assert fake.count("/api/v3/member") == 2


@pytest.mark.parametrize("days_in_utc", [False, True])
def test_east_of_utc_the_next_run_starts_from_the_earlier_of_the_two_days(fake, days_in_utc):
    """+10:00: whether search reads `updated:` days in the workspace's zone or in UTC is undocumented; a
    change at 20:00 UTC (06:00 the next workspace day) is read in both readings."""
    fake.utc_offset, fake.days_in_utc = "+10:00", days_in_utc
    runs = iter(datetime(2026, 12, 6, hour, tzinfo=UTC) for hour in (16, 21))
    pull = shortcut_pull(fake, clock=lambda: next(runs))
    fake.add_story(1, updated_at="2026-12-06T10:00:00Z", created_at="2026-12-06T10:00:00Z")
    checkpoint = [page for page in pull.pull(None) if page.checkpoint][-1].checkpoint
    # two hours before 16:00 UTC is midnight of the 7th in the workspace, still the 6th in UTC
    assert checkpoint["watermark"] == "2026-12-06"
    fake.add_story(2, updated_at="2026-12-06T20:00:00Z", created_at="2026-12-06T20:00:00Z")
    assert 2 in _ids(list(pull.pull(checkpoint)))


def test_a_future_sync_start_stops_with_one_line_naming_it(fake):
    from datetime import date

    pull = shortcut_pull(fake)
    pull.start = date(2999, 1, 1)
    with pytest.raises(UpstreamError, match="SYNC_START 2999-01-01 is in the future"):
        list(pull.pull(None))
    assert fake.count(SEARCH) == 0


def test_a_watermark_saved_as_a_utc_day_is_read_from_the_day_before(fake):
    fake.add_story(1)
    list(shortcut_pull(fake).pull({"watermark": "2025-01-02"}))
    query = [q for _, path, q in fake.requests if path == SEARCH][-1]["query"][0]
    assert query == "type:bug updated:2025-01-01..*"


def test_an_unknown_workspace_offset_widens_the_days(fake):
    fake.member_utc_offset = "Pacific/Auckland"  # not an offset the pull can read
    fake.add_story(1)
    fixed = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    pull = shortcut_pull(fake, clock=lambda: fixed)
    checkpoint = [page for page in pull.pull(None) if page.checkpoint][-1].checkpoint
    # 01:00 UTC less the two-hour margin is 23:00 UTC on the 5th: 11:00 on the 5th at UTC-12
    assert checkpoint["watermark"] == "2026-12-05"


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


def test_the_default_pace_goes_at_shortcut_s_limit_with_headroom_and_meets_no_429(fake):
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    fake.limiter = RateWindow(200, 60.0, clock=lambda: now[0])  # Shortcut's 200 a minute, on the same clock
    http = ShortcutHttp(fake.api_url, fake.token, sleep=sleep, clock=lambda: now[0])
    assert http.requests_per_minute == REQUESTS_PER_MINUTE < 200  # the headroom
    for _ in range(250):
        http.get_json(f"{fake.api_url}/workflows", None)
    assert fake.limiter.refused == 0 and http.stats.requests == 250
    assert now[0] == pytest.approx(60.0, abs=0.01)  # the limit's floor: 250 requests at 200 a minute


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


def test_backlog_stories_get_the_backlog_type_and_archived_ones_come_from_search(fake):
    fake.add_story(1, workflow_state_id=BACKLOG_STATE[0])
    fake.add_story(2, archived=True)
    pull = shortcut_pull(fake)
    records = {r.record_id: r for page in pull.pull(None) for r in page.records}
    assert (records["1"].state, records["1"].state_type) == ("Icebox", "backlog")
    # search returns archived stories unless the query says !is:archived (as Shortcut's does)
    assert (records["2"].state, records["2"].state_type) == ("archived", "done")
    only_live = {
        r.record_id
        for page in shortcut_pull(fake, query="type:bug !is:archived").pull(None)
        for r in page.records
    }
    assert only_live == {"1"}


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
