"""The incremental export through real zenpy against the fake Zendesk over HTTP."""

from __future__ import annotations

import pytest

from adapters.pull import RateLimited, UpstreamError
from tests.fakes.zendesk import CUSTOM_STATUSES_PATH, EXPORT_PATH, SHOW_MANY_PATH, FakeZendesk, zendesk_pull


@pytest.fixture
def fake():
    with FakeZendesk() as server:
        yield server


def _ids(pages):
    return [int(record.record_id) for page in pages for record in page.records]


def test_every_page_asks_by_cursor_with_its_users_and_carries_the_cursor(fake, monkeypatch):
    fake.add_tickets(25)
    pull = zendesk_pull(fake, monkeypatch, per_page=10)
    pages = list(pull.pull(None))
    # Zendesk's after_url is not documented to keep include: each page asks by after_cursor, with
    # include=users and per_page, so every page brings its own users.
    assert [len(page.records) for page in pages] == [10, 10, 5]
    assert _ids(pages) == list(range(1, 26))
    assert all(page.checkpoint["cursor"] for page in pages)
    assert pages[0].checkpoint["cursor"] != pages[1].checkpoint["cursor"]
    assert fake.count(EXPORT_PATH) == 3
    first_query, second_query, _ = (query for _, path, query in fake.requests if path == EXPORT_PATH)
    assert first_query["start_time"] == ["0"] and first_query["include"] == ["users"]
    assert second_query == {
        "cursor": [pages[0].checkpoint["cursor"]],
        "per_page": ["10"],
        "include": ["users"],
    }
    assert fake.count(SHOW_MANY_PATH) == 0
    # requester / assignee come from the sideload on page 1: no request per ticket
    assert pages[0].records[0].attributes["requester"]["email"].endswith("@example.com")


def test_names_survive_pages_without_the_sideload(fake, monkeypatch):
    fake.add_tickets(25)
    original = fake.route

    def without_sideload(method, path, query, headers):  # as if Zendesk ignored include past page 1
        if path == EXPORT_PATH and "cursor" in query:
            query = {k: v for k, v in query.items() if k != "include"}
        return original(method, path, query, headers)

    fake.route = without_sideload
    pull = zendesk_pull(fake, monkeypatch, per_page=10)
    pages = list(pull.pull(None))
    for record in pages[1].records:
        ticket = fake.tickets[int(record.record_id)]
        requester, assignee = record.attributes["requester"], record.attributes["assignee"]
        assert requester == {
            "id": ticket["requester_id"],
            "name": f"User {ticket['requester_id']}",
            "email": f"user{ticket['requester_id']}@example.com",
        }
        assert assignee["name"] == f"User {ticket['assignee_id']}"
    # one show_many a page for the users no earlier page brought; the ones seen are cached for the run
    assert fake.count(SHOW_MANY_PATH) == 2
    asked = {int(i) for _, path, q in fake.requests if path == SHOW_MANY_PATH for i in q["ids"][0].split(",")}
    page_one_users = {u for n in range(1, 11) for u in (1000 + n % 50, 2000 + n % 7)}
    assert asked and not asked & page_one_users
    assert pull.stats.requests == 5 + 1  # + GET custom_statuses, once (tickets name their status)


def test_user_lookups_are_bounded_to_100_ids_a_request_and_unknown_users_keep_their_id(fake, monkeypatch):
    for n in range(1, 501):
        fake.add_user(10_000 + n)
        fake.add_ticket(n, requester_id=10_000 + n, assignee_id=None)
    fake.add_ticket(501, requester_id=99_999, assignee_id=None)  # a deleted user: show_many leaves it out
    for ticket_id in range(251, 501):  # users the sideload does not carry (deleted since, say)
        fake.users.pop(10_000 + ticket_id)
    pull = zendesk_pull(fake, monkeypatch, per_page=250)
    original = fake.route

    def restore_users(method, path, query, headers):  # show_many still finds them
        if path == SHOW_MANY_PATH:
            for ticket_id in range(251, 501):
                fake.add_user(10_000 + ticket_id)
        return original(method, path, query, headers)

    fake.route = restore_users
    records = {r.record_id: r for page in pull.pull(None) for r in page.records}
    assert len(records) == 501
    assert records["1"].attributes["requester"]["name"] == "User 10001"  # the sideload of page 1
    assert records["400"].attributes["requester"]["name"] == "User 10400"
    assert records["501"].attributes["requester"] == {"id": 99_999, "name": None, "email": None}
    sizes = [len(q["ids"][0].split(",")) for _, path, q in fake.requests if path == SHOW_MANY_PATH]
    assert sizes == [100, 100, 50, 1]
    assert pull.stats.requests == 3 + 4 + 1  # + GET custom_statuses


def test_a_system_update_moves_only_generated_timestamp_and_the_record_carries_it(fake, monkeypatch):
    fake.add_tickets(3)
    pull = zendesk_pull(fake, monkeypatch)
    pages = list(pull.pull(None))
    before = {r.record_id: r for r in pages[0].records}["2"]
    fake.system_update(2, status="solved")
    (record,) = [r for page in pull.pull(pages[-1].checkpoint) for r in page.records]
    assert (record.record_id, record.state, record.state_type) == ("2", "solved", "done")
    assert record.updated_at == before.updated_at
    assert record.source_version > before.source_version
    assert record.version > before.version


def test_an_agents_token_gets_the_admin_hint_in_one_line(fake, monkeypatch):
    fake.add_tickets(1)
    fake.admin = False
    with pytest.raises(UpstreamError) as raised:
        list(zendesk_pull(fake, monkeypatch).pull(None))
    message = str(raised.value)
    assert message == (
        "Zendesk answered HTTP 403 to the incremental export: the Zendesk incremental export needs an"
        " admin's API token: ZENDESK_EMAIL must be an admin"
    )
    assert "\n" not in message and fake.token not in message


def test_resumes_from_the_saved_cursor_with_only_what_changed(fake, monkeypatch):
    fake.add_tickets(12)
    pull = zendesk_pull(fake, monkeypatch, per_page=5)
    pages = list(pull.pull(None))
    fake.touch(3, status="solved")
    fake.add_ticket(99)
    again = list(pull.pull(pages[-1].checkpoint))
    assert _ids(again) == [3, 99]
    resumed = fake.requests[-1][2]
    assert resumed["cursor"] == [pages[-1].checkpoint["cursor"]]
    # each page is asked for by us (zenpy 2.0.57 would drop per_page resuming from a cursor): both kept
    assert resumed["include"] == ["users"] and resumed["per_page"] == ["5"]
    nothing = list(pull.pull(again[-1].checkpoint))
    assert _ids(nothing) == [] and pull.stats.requests == 1


def test_full_ignores_the_cursor_and_start_date_limits_the_backfill(fake, monkeypatch):
    fake.add_tickets(6)
    pull = zendesk_pull(fake, monkeypatch)
    pages = list(pull.pull(None))
    assert _ids(list(pull.pull(pages[-1].checkpoint, full=True))) == list(range(1, 7))
    from datetime import date

    pull.start = date(2026, 1, 1)  # after every ticket's last change (and not in the future)
    assert _ids(list(pull.pull(None))) == []


def test_429_retry_after_is_honoured_and_counted(fake, monkeypatch):
    fake.add_tickets(3)
    fake.inject(429, headers={"Retry-After": "1"})
    pull = zendesk_pull(fake, monkeypatch)
    assert _ids(list(pull.pull(None))) == [1, 2, 3]
    assert pull.stats.rate_limit_wait == pytest.approx(1.0)
    assert fake.count(EXPORT_PATH) == 2


def test_rate_limit_budget_spent_stops_with_a_clear_error(fake, monkeypatch):
    fake.add_tickets(3)
    fake.inject(429, times=5, headers={"Retry-After": "30"})
    pull = zendesk_pull(fake, monkeypatch, budget=2)
    with pytest.raises(UpstreamError, match="rate limit.*resumes from the saved cursor"):
        list(pull.pull(None))


def test_5xx_is_retried_with_backoff(fake, monkeypatch):
    fake.add_tickets(15)
    pull = zendesk_pull(fake, monkeypatch, per_page=10)
    pages = pull.pull(None)
    first = next(pages)
    fake.inject(503, times=2)
    fake.inject(500)
    rest = list(pages)
    assert _ids([first, *rest]) == list(range(1, 16))
    assert fake.count(EXPORT_PATH) == 2 + 3


def test_persistent_5xx_stops_after_the_page_already_pulled(fake, monkeypatch):
    fake.add_tickets(15)
    pull = zendesk_pull(fake, monkeypatch, per_page=10)
    pages = pull.pull(None)
    assert len(next(pages).records) == 10
    fake.inject(502, times=20)
    with pytest.raises(UpstreamError, match="HTTP 502"):
        next(pages)


def test_bad_credentials_say_which_variables_and_never_the_token(fake, monkeypatch):
    fake.add_tickets(1)
    pull = zendesk_pull(fake, monkeypatch)  # built with zd-test-token
    fake.token = "the-right-token"
    with pytest.raises(UpstreamError) as raised:
        list(pull.pull(None))
    assert "HTTP 401" in str(raised.value) and "ZENDESK_API_TOKEN" in str(raised.value)
    assert "zd-test-token" not in str(raised.value)


def test_unmappable_tickets_are_reported_and_the_page_goes_on(fake, monkeypatch):
    fake.add_tickets(3)
    fake.tickets[2]["created_at"] = "not a date"
    pages = list(zendesk_pull(fake, monkeypatch).pull(None))
    assert _ids(pages) == [1, 3]
    assert pages[0].failures == ["Zendesk ticket 2: created_at 'not a date' is not a timestamp"]
    assert pages[0].checkpoint is not None


def test_a_custom_status_is_stored_as_its_agent_label_typed_by_its_category(fake, monkeypatch):
    fake.add_custom_status(9001, "Waiting on engineering", "hold")
    fake.add_custom_status(9002, "Fixed, awaiting customer", "solved")
    fake.add_tickets(4)
    fake.tickets[1].update(status="hold", custom_status_id=9001)
    fake.tickets[3].update(status="open")  # a built-in status keeps its own name
    pull = zendesk_pull(fake, monkeypatch)
    records = {r.record_id: r for page in pull.pull(None) for r in page.records}
    assert (records["1"].state, records["1"].state_type) == ("Waiting on engineering", "started")
    assert records["1"].attributes["status"] == "hold"
    assert (records["3"].state, records["3"].state_type) == ("open", "started")
    assert "status" not in records["3"].attributes
    # cached: a ticket moving to another known status needs no new listing
    fake.touch(2, status="solved", custom_status_id=9002)
    again = {r.record_id: r for page in pull.pull(None) for r in page.records}
    assert (again["2"].state, again["2"].state_type) == ("Fixed, awaiting customer", "done")
    assert fake.count(CUSTOM_STATUSES_PATH) == 1
    # a status the cache does not know: listed again, once in a run
    fake.add_custom_status(9003, "Escalated", "open")
    fake.touch(4, status="open", custom_status_id=9003)
    fake.touch(3, status="open", custom_status_id=9004)  # unknown even after listing: its status kept
    latest = {r.record_id: r for page in pull.pull(None) for r in page.records}
    assert latest["4"].state == "Escalated" and latest["3"].state == "open"
    assert fake.count(CUSTOM_STATUSES_PATH) == 2


def test_every_request_spends_one_rate_limit_budget_and_past_it_the_run_is_rate_limited(fake, monkeypatch):
    fake.add_tickets(25)
    pull = zendesk_pull(fake, monkeypatch, per_page=10, budget=3)
    pages = pull.pull(None)
    next(pages)
    fake.inject(429, headers={"Retry-After": "1"})  # the next request: page 2
    fake.inject(429, headers={"Retry-After": "1.5"})  # page 2 again
    second = next(pages)
    assert len(second.records) == 10
    assert pull.stats.rate_limit_wait == pytest.approx(2.5)
    fake.inject(429, headers={"Retry-After": "1"})  # page 3's export request: 3.5 s would pass 3 s
    with pytest.raises(RateLimited, match="Zendesk rate limit: more than 3s spent waiting"):
        next(pages)


def test_a_429_on_users_show_many_is_waited_out_and_counted(fake, monkeypatch):
    fake.add_tickets(25)
    pull = zendesk_pull(fake, monkeypatch, per_page=10)
    pages = pull.pull(None)
    next(pages)
    before = fake.count(SHOW_MANY_PATH)
    # page 2's export request is served; its users/show_many gets the 429
    original = fake.route

    def route(method, path, query, headers):
        if path == EXPORT_PATH:  # the page comes without its users: they are looked up
            query = {k: v for k, v in query.items() if k != "include"}
        if path == SHOW_MANY_PATH and not hasattr(route, "done"):
            route.done = True
            return 429, {"error": "APIRateLimitExceeded"}, {"Retry-After": "1"}
        return original(method, path, query, headers)

    fake.route = route
    assert len(next(pages).records) == 10
    assert fake.count(SHOW_MANY_PATH) - before == 2
    assert pull.stats.rate_limit_wait == pytest.approx(1.0)


def test_a_refused_cursor_starts_again_from_the_newest_time_stored(fake, monkeypatch):
    fake.add_tickets(25)
    pull = zendesk_pull(fake, monkeypatch, per_page=10)
    pages = list(pull.pull(None))
    saved = pages[-1].checkpoint
    assert saved["resume_time"] == fake.tickets[25]["generated_timestamp"]
    fake.expire_cursors()
    fake.touch(3, subject="changed since")
    again = list(pull.pull(saved))
    assert [r.record_id for page in again for r in page.records][-1] == "3"
    queries = [q for _, path, q in fake.requests if path == EXPORT_PATH][-2:]
    assert queries[0]["cursor"] == [saved["cursor"]]  # refused (422)
    assert queries[1]["start_time"] == [str(saved["resume_time"])]
    assert again[-1].checkpoint["cursor"] and "cursor" not in queries[1]


def test_a_future_sync_start_stops_with_one_line_naming_it(fake, monkeypatch):
    from datetime import date

    pull = zendesk_pull(fake, monkeypatch)
    pull.start = date(2999, 1, 1)
    with pytest.raises(UpstreamError, match="SYNC_START 2999-01-01 is in the future") as stopped:
        list(pull.pull(None))
    assert "\n" not in str(stopped.value) and fake.count(EXPORT_PATH) == 0


def test_a_status_label_is_shown_unless_it_only_names_its_category(fake, monkeypatch):
    # `default: true` means "this category's default", not "built-in": a custom "In progress" made the
    # open default keeps its label; the built-in Open, no longer the default, is just open
    for status in fake.custom_statuses:
        if status["id"] == 2:
            status["default"] = False
    fake.add_custom_status(9010, "In progress", "open")
    fake.custom_statuses[-1]["default"] = True
    fake.add_tickets(3)
    fake.tickets[1].update(status="open", custom_status_id=9010)
    fake.tickets[2].update(status="open", custom_status_id=2)
    fake.tickets[3].update(status="hold", custom_status_id=4)  # "On-hold": the hold category's own name
    records = {r.record_id: r for page in zendesk_pull(fake, monkeypatch).pull(None) for r in page.records}
    assert (records["1"].state, records["1"].state_type) == ("In progress", "started")
    assert (records["2"].state, records["2"].state_type) == ("open", "started")
    assert records["3"].state == "hold"


def test_a_merged_ticket_is_merged_not_done_like_a_solved_one(fake, monkeypatch):
    fake.add_tickets(2)
    fake.tickets[1].update(status="closed", tags=["closed_by_merge", "web"])
    fake.tickets[2].update(status="closed")
    records = {r.record_id: r for page in zendesk_pull(fake, monkeypatch).pull(None) for r in page.records}
    assert (records["1"].state, records["1"].state_type) == ("merged", "done")
    assert records["2"].state == "closed"
