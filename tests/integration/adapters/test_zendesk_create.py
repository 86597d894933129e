"""Creating a ticket through real zenpy against the fake Zendesk, which takes the POST as zenpy sends it and
then exports the ticket."""

from __future__ import annotations

import pytest

from adapters.create import CreateRefused, CreateUnknown, TicketDraft
from adapters.pull import UpstreamError
from adapters.zendesk_create import ZendeskCreate
from adapters.zendesk_pull import build_zendesk_client
from tests.fakes.zendesk import TICKETS_PATH, FakeZendesk, point_zenpy_at, zendesk_config, zendesk_pull

PERMALINK = "https://example.slack.com/archives/C0BUGS/p1764300001000001"


@pytest.fixture
def fake(monkeypatch):
    with FakeZendesk() as server:
        point_zenpy_at(server, monkeypatch)
        yield server


def creator(fake: FakeZendesk) -> ZendeskCreate:
    return ZendeskCreate(
        build_zendesk_client(zendesk_config(fake), backoff_factor=0.01, timeout=10), fake.subdomain
    )


def draft(**changes) -> TicketDraft:
    fields = dict(
        title="Checkout button broken", description="It fails.", permalink=PERMALINK, priority="Critical"
    )
    fields.update(changes)
    return TicketDraft(**fields)


def test_a_ticket_is_made_with_the_permalink_in_its_first_comment_and_exported(fake, monkeypatch):
    record = creator(fake).create(draft(ticket_type="incident"), "key-1")
    (body,) = fake.posts(TICKETS_PATH)
    ticket = body["ticket"]
    assert ticket["subject"] == "Checkout button broken" and ticket["type"] == "incident"
    assert ticket["priority"] == "urgent" and ticket["external_id"] == "key-1"
    assert PERMALINK in ticket["comment"]["html_body"] and ticket["comment"]["public"] is True
    assert "body" not in ticket["comment"]  # Zendesk strips tag-like text from a body
    assert "requester" not in ticket  # the API user
    assert record.home_id == "ZD-5001" and record.priority == "Critical" and record.state == "new"
    assert record.url == "https://acme.zendesk.com/agent/tickets/5001"
    exported = [r.home_id for page in zendesk_pull(fake, monkeypatch).pull(None) for r in page.records]
    assert exported == ["ZD-5001"]


def test_a_requester_email_makes_the_first_comment_internal(fake):
    creator(fake).create(draft(requester_email="ann@example.com"), "k")
    ticket = fake.posts(TICKETS_PATH)[0]["ticket"]
    assert ticket["requester"]["email"] == "ann@example.com" and ticket["comment"]["public"] is False
    assert fake.users[fake.tickets[5001]["requester_id"]]["email"] == "ann@example.com"


def test_refusals_are_one_line_with_zendesk_s_reason(fake):
    zendesk = creator(fake)
    with pytest.raises(CreateRefused, match=r"HTTP 422\): Requester: Email is invalid"):
        zendesk.create(draft(requester_email="ann@"), "k")
    fake.can_create = False
    with pytest.raises(CreateRefused, match="role may create tickets"):
        zendesk.create(draft(), "k")
    fake.can_create = True
    fake.inject(503)
    with pytest.raises(CreateUnknown, match="HTTP 503"):
        zendesk.create(draft(), "k")
    assert fake.tickets == {}


def test_a_ticket_is_found_again_by_its_key_and_read_by_id(fake):
    zendesk = creator(fake)
    fake.inject(502, after=True)
    with pytest.raises(CreateUnknown):
        zendesk.create(draft(), "key-lost")
    assert zendesk.find("key-lost").home_id == "ZD-5001"
    assert zendesk.find("other") is None
    assert zendesk.fetch(5001).title == "Checkout button broken"
    assert zendesk.fetch(4242) is None


def test_tag_like_text_survives_as_escaped_html_body(fake):
    text = "Parsing <div class=x> fails for List<String> & Map<K, V>\nsecond line"
    creator(fake).create(draft(description=text), "k")
    comment = fake.posts(TICKETS_PATH)[0]["ticket"]["comment"]
    assert "&lt;div class=x&gt;" in comment["html_body"] and "<div" not in comment["html_body"]
    assert fake.comments[5001][0]["plain_body"].startswith(text)  # every word, as the agent reads it


def test_the_fake_strips_a_body_as_zendesk_does(fake):
    zendesk = creator(fake)
    from zenpy.lib.api_objects import Comment, Ticket

    zendesk.client.tickets.create(Ticket(subject="s", comment=Comment(body="uses List<String> here")))
    assert fake.comments[5001][0]["plain_body"] == "uses List here"


def test_a_403_reading_a_ticket_says_it_cannot_be_seen_not_that_nothing_can_be_created(fake):
    zendesk = creator(fake)
    fake.inject(403, body={"error": "Forbidden", "description": "You do not have access"})
    with pytest.raises(UpstreamError, match="may not see that ticket") as refused:
        zendesk.fetch(5001)
    assert "create" not in str(refused.value)


def test_the_429_budget_is_set_at_construction_and_holds_for_every_call(fake):
    client = build_zendesk_client(zendesk_config(fake), timeout=10)  # zenpy's own: no limit
    zendesk = ZendeskCreate(client, fake.subdomain, ratelimit_budget=2)
    fake.inject(429, headers={"Retry-After": "30"})  # a read before any create waits 1 s, not 30
    with pytest.raises(UpstreamError, match="HTTP 429"):
        zendesk.fetch(5001)
    fake.inject(429, headers={"Retry-After": "30"})
    with pytest.raises(CreateRefused, match="HTTP 429"):
        zendesk.create(draft(), "k")
    fake.inject(429, headers={"Retry-After": "1"})  # the budget spent above is whole again
    assert zendesk.create(draft(), "k").home_id == "ZD-5001"
    # the bot's creator (CREATE_RATELIMIT_BUDGET): a person at a modal is told at once, never kept 6 s
    default = ZendeskCreate(client, fake.subdomain)
    fake.inject(429, headers={"Retry-After": "6"})  # more than 5 s: not waited, whatever the budget says
    with pytest.raises(CreateRefused, match="HTTP 429"):
        default.create(draft(), "k2")
