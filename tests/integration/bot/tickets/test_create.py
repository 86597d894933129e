"""The create verb on both stores, against the fake Shortcut and Zendesk over HTTP: created once, stored
from the API's answer, the report moved under it; refusals leave everything as it was."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from adapters.create import CreateRefused, CreateUnknown
from adapters.shortcut_create import ShortcutCreate
from adapters.shortcut_http import ShortcutHttp
from adapters.zendesk_create import ZendeskCreate
from adapters.zendesk_pull import build_zendesk_client
from bot.slack.readers import ReaderScope
from bot.tickets.create import (
    CreateBusy,
    CreateChecking,
    CreateDenied,
    create_ticket,
    created_note,
    prefill,
    untagged_replies,
)
from bot.tickets.link import Actor, StaleSuggestion, link, operator, read_unknown
from bot.tickets.upstreams import CreateUnavailable, PullScope, Upstreams
from storage.errors import TicketNotFound
from tests.fakes.shortcut import FakeShortcut
from tests.fakes.zendesk import FakeZendesk, point_zenpy_at, zendesk_config
from tests.support.builders import slack_record

LINKER = "U0LINKER"


def may_link(user: str) -> bool:
    return user == LINKER


@pytest.fixture
def fakes(monkeypatch):
    with FakeShortcut() as shortcut, FakeZendesk() as zendesk:
        point_zenpy_at(zendesk, monkeypatch)
        yield shortcut, zendesk


@pytest.fixture
def upstreams(fakes):
    shortcut, zendesk = fakes
    client = build_zendesk_client(zendesk_config(zendesk), backoff_factor=0.01, timeout=10)
    return Upstreams(
        shortcut=ShortcutCreate(
            ShortcutHttp(shortcut.api_url, shortcut.token, backoff_factor=0.01, timeout=10)
        ),
        zendesk=ZendeskCreate(client, zendesk.subdomain),
    )


@pytest.fixture
def report(store):
    record = slack_record(1, text="Checkout button broken\non Safari", priority="High", priority_raw="high")
    store.upsert(record)
    return record


def test_the_prefill_carries_text_author_permalink_replies_and_priority(report):
    replies = untagged_replies(
        [
            {"ts": report.record_id, "user": "U0AUTHOR", "text": "the report itself"},
            {"ts": "2.0", "user": "U0ANN", "text": "same on Firefox &lt;3"},
            {"ts": "3.0", "user": "U0BOB", "text": "ticketId=ZD-1"},  # a tag is for the bot
            {"ts": "4.0", "bot_id": "B1", "text": "Stored as SL-1"},
        ],
        report.record_id,
    )
    draft = prefill(report, replies)
    assert draft.title == "Checkout button broken" and draft.priority == "High"
    assert draft.permalink == report.url
    assert draft.description.splitlines()[:2] == ["Checkout button broken", "on Safari"]
    assert "U0AUTHOR" in draft.description and report.url in draft.description
    assert "- U0ANN: same on Firefox <3" in draft.description
    assert "ZD-1" not in draft.description and "Stored as" not in draft.description


@pytest.mark.parametrize("system, ticket_id", [("shortcut", "SC-9001"), ("zendesk", "ZD-5001")])
def test_created_stored_from_the_answer_and_the_report_moved_under_it(
    store, upstreams, report, system, ticket_id
):
    created = create_ticket(store, upstreams, system, report.home_id, LINKER, may_link)
    assert created.ticket_id == ticket_id and created.link.resolved_target == ticket_id
    view = store.show(ticket_id)  # no pull ran: the ticket is stored from the API's answer
    assert {r.source_system for r in view.records} == {system, "slack"}
    assert store.get_record("slack", report.record_id).ticket_id == ticket_id
    assert created_note(created).startswith(f"Created {ticket_id} in ")
    assert created_note(created).endswith(f"— this report now lives under {ticket_id}")
    again = store.get_meta(f"create:{report.home_id}")
    assert again["state"] == "created" and again["ticket"] == ticket_id


def test_a_second_click_after_the_first_makes_nothing(store, upstreams, fakes, report):
    create_ticket(store, upstreams, "shortcut", report.home_id, LINKER, may_link)
    with pytest.raises(StaleSuggestion, match="already lives under SC-9001; nothing was created"):
        create_ticket(store, upstreams, "shortcut", report.home_id, LINKER, may_link)
    assert len(fakes[0].stories) == 1


def test_a_double_click_makes_one_story(store, upstreams, fakes, report):
    shortcut, _ = fakes
    upstreams.shortcut.choices()
    shortcut.delay = 0.3  # both clicks are in flight together
    outcomes: list[object] = []

    def click() -> None:
        try:
            outcomes.append(create_ticket(store, upstreams, "shortcut", report.home_id, LINKER, may_link))
        except (CreateBusy, StaleSuggestion) as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(shortcut.stories) == 1 and len(creates(shortcut)) == 1
    assert sum(isinstance(outcome, CreateBusy | StaleSuggestion) for outcome in outcomes) == 1


def test_only_linkers_create_and_creating_can_be_off(store, upstreams, fakes, report):
    with pytest.raises(CreateDenied, match="BUG_LINKERS"):
        create_ticket(
            store, upstreams, "zendesk", report.home_id, "U0AUTHOR", may_link
        )  # not even the author
    off = Upstreams(shortcut=upstreams.shortcut, zendesk=upstreams.zendesk, create_enabled=False)
    with pytest.raises(CreateUnavailable, match="BUG_CREATE=off"):
        create_ticket(store, off, "zendesk", report.home_id, LINKER, may_link)
    with pytest.raises(CreateUnavailable, match="SHORTCUT_API_TOKEN is not set"):
        create_ticket(
            store, Upstreams(zendesk=upstreams.zendesk), "shortcut", report.home_id, LINKER, may_link
        )
    assert fakes[0].posts("/stories") == [] and fakes[1].posts("/tickets") == []


@pytest.mark.parametrize("status, error", [(422, CreateRefused), (503, CreateUnknown), (401, CreateRefused)])
def test_a_failure_upstream_leaves_the_report_as_it_was(store, upstreams, fakes, report, status, error):
    _, zendesk = fakes
    clock = Clock()
    zendesk.inject(status, body={"error": "RecordInvalid", "description": "Record validation errors"})
    with pytest.raises(error) as failed:
        create_ticket(store, upstreams, "zendesk", report.home_id, LINKER, may_link, clock=clock)
    assert f"HTTP {status}" in str(failed.value) and "\n" not in str(failed.value)
    assert store.get_record("slack", report.record_id).ticket_id == report.home_id
    assert zendesk.tickets == {}
    if error is CreateUnknown:  # it may still appear: the next try within minutes only looks
        with pytest.raises(CreateChecking):
            create_ticket(store, upstreams, "zendesk", report.home_id, LINKER, may_link, clock=clock)
        clock.now += 400
    # nothing half-done: the claim is given back, the next try creates
    created = create_ticket(store, upstreams, "zendesk", report.home_id, LINKER, may_link, clock=clock)
    assert created.ticket_id == "ZD-5001"
    assert len(zendesk.tickets) == 1


def test_a_lost_answer_is_found_by_its_key_not_made_twice(store, upstreams, fakes, report):
    shortcut, _ = fakes
    upstreams.shortcut.choices()
    shortcut.inject(504, after=True)  # the story is made, its answer lost
    created = create_ticket(store, upstreams, "shortcut", report.home_id, LINKER, may_link)
    assert created.ticket_id == "SC-9001" and created.found_again
    assert len(creates(shortcut)) == 1 and len(shortcut.stories) == 1


def test_after_an_unknown_outcome_the_next_try_looks_first(store, upstreams, fakes, report):
    shortcut, _ = fakes
    upstreams.shortcut.choices()
    shortcut.inject(504, after=True)  # made; and the look-up right after fails too
    shortcut.inject(503)
    with pytest.raises(CreateUnknown, match="asked first next time"):
        create_ticket(store, upstreams, "shortcut", report.home_id, LINKER, may_link)
    assert store.get_record("slack", report.record_id).ticket_id == report.home_id
    created = create_ticket(store, upstreams, "shortcut", report.home_id, LINKER, may_link)
    assert created.ticket_id == "SC-9001" and created.found_again
    assert len(creates(shortcut)) == 1


def creates(shortcut: FakeShortcut) -> list:
    """The POST /stories bodies (not the searches)."""
    return [path for path, _ in shortcut.posted if path.endswith("/stories")]


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("system", ["shortcut", "zendesk"])
def test_a_create_that_commits_late_is_awaited_not_made_twice(store, upstreams, fakes, report, system):
    shortcut, zendesk = fakes
    fake = shortcut if system == "shortcut" else zendesk
    upstreams.shortcut.choices()
    clock = Clock()
    fake.inject(504)  # no answer, and nothing there yet: it commits a minute later
    with pytest.raises(CreateUnknown):
        create_ticket(store, upstreams, system, report.home_id, LINKER, may_link, clock=clock)
    key = store.get_meta(f"create:{report.home_id}")["key"]
    clock.now += 90  # a retry within a few minutes looks, and says so, instead of creating
    with pytest.raises(CreateChecking, match="checking whether it was created"):
        create_ticket(store, upstreams, system, report.home_id, LINKER, may_link, clock=clock)
    made = creates(shortcut) if system == "shortcut" else zendesk.posts("/tickets.json")
    assert len(made) == 1
    if system == "shortcut":  # the POST commits late, carrying its key
        shortcut.add_story(9001, name="Checkout button broken", external_id=key)
    else:
        zendesk.add_ticket(5001, external_id=key)
    clock.now += 600
    created = create_ticket(store, upstreams, system, report.home_id, LINKER, may_link, clock=clock)
    assert created.found_again and created.record.record_id in ("9001", "5001")
    assert len(fake.stories if system == "shortcut" else zendesk.tickets) == 1


def test_a_new_story_is_made_only_after_two_look_ups_apart_in_time(store, upstreams, fakes, report):
    shortcut, _ = fakes
    upstreams.shortcut.choices()
    clock = Clock()
    shortcut.inject(504)  # nothing was made
    with pytest.raises(CreateUnknown):
        create_ticket(store, upstreams, "shortcut", report.home_id, LINKER, may_link, clock=clock)
    clock.now += 30
    with pytest.raises(CreateChecking):
        create_ticket(store, upstreams, "shortcut", report.home_id, LINKER, may_link, clock=clock)
    clock.now += 300  # settled, and look-ups minutes apart all found nothing: made now, once
    created = create_ticket(store, upstreams, "shortcut", report.home_id, LINKER, may_link, clock=clock)
    assert not created.found_again and len(creates(shortcut)) == 2 and len(shortcut.stories) == 1


def test_a_crash_mid_send_is_looked_up_twice_before_a_new_create(store, upstreams, fakes, report):
    shortcut, _ = fakes
    clock = Clock()
    store.put_meta(  # a process died after saving its key, before the POST answered
        f"create:{report.home_id}",
        {"state": "sending", "system": "shortcut", "key": "k-dead", "by": LINKER, "sent": clock.now - 3600},
    )
    with pytest.raises(CreateChecking):
        create_ticket(store, upstreams, "shortcut", report.home_id, LINKER, may_link, clock=clock)
    clock.now += 61
    assert create_ticket(store, upstreams, "shortcut", report.home_id, LINKER, may_link, clock=clock)
    assert len(creates(shortcut)) == 1


def test_a_link_to_an_unseen_ticket_reads_it_first_and_stores_it_only_once_linked(
    store, upstreams, fakes, report
):
    shortcut, zendesk = fakes
    zendesk.add_ticket(4321, subject="Made by hand a minute ago")
    record, note = read_unknown(store, upstreams, "ZD-4321", operator(LINKER))
    assert record.title == "Made by hand a minute ago" and note is None
    assert store.get_record("zendesk", "4321") is None  # read, not stored: nothing is linked yet
    with pytest.raises(TicketNotFound, match="SC-77 is not a ticket or report you can see here"):
        link(store, report.home_id, "SC-77", operator(LINKER), upstreams)
    assert store.get_record("shortcut", "77") is None
    _, note = read_unknown(store, Upstreams(zendesk=upstreams.zendesk), "SC-78", operator(LINKER))
    assert note == "SC-78 is not known here (Shortcut is not configured); linked all the same"
    link(store, report.home_id, "ZD-4321", operator(LINKER), upstreams)
    assert store.get_record("zendesk", "4321").title == "Made by hand a minute ago"
    asked = zendesk.count("/tickets/4321")
    link(store, report.home_id, "ZD-4321", operator(LINKER), upstreams)
    assert zendesk.count("/tickets/4321") == asked  # stored now: not asked again


def test_fetching_is_reading_only_what_the_pull_would_take_for_someone_who_reads_tickets(
    store, upstreams, fakes, report
):
    shortcut, zendesk = fakes
    shortcut.add_story(70002, story_type="feature", name="CONFIDENTIAL: the next acquisition")
    shortcut.add_story(70003)  # a bug
    nobody = Actor("U0EVE", ReaderScope(frozenset()))
    asked = shortcut.count("/stories/70003")
    with pytest.raises(TicketNotFound, match="you can see here"):
        link(store, report.home_id, "SC-70003", nobody, upstreams)
    assert shortcut.count("/stories/70003") == asked  # not even asked
    with pytest.raises(TicketNotFound) as feature:
        link(store, report.home_id, "SC-70002", operator(LINKER), upstreams)  # SHORTCUT_QUERY: type:bug
    with pytest.raises(TicketNotFound) as missing:
        link(store, report.home_id, "SC-70009", operator(LINKER), upstreams)
    assert str(feature.value).replace("70002", "N") == str(missing.value).replace("70009", "N")  # no oracle
    assert store.get_record("shortcut", "70002") is None and store.get_record("shortcut", "70003") is None
    old = Upstreams(shortcut=upstreams.shortcut, scope=PullScope("type:bug", start=date(2099, 1, 1)))
    with pytest.raises(TicketNotFound):
        link(store, report.home_id, "SC-70003", operator(LINKER), old)  # changed before SYNC_START
    assert link(store, report.home_id, "SC-70003", operator(LINKER), upstreams).resolved_target == "SC-70003"
    assert store.get_record("shortcut", "70003") is not None
