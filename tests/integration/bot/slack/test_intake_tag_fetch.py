"""A `ticketId=` tag naming a ticket no pull stored yet: read from its system first (real zenpy against the
fake Zendesk), a 404 is not linked, an unconfigured system links with a note; on both stores."""

from __future__ import annotations

import pytest

from adapters.zendesk_create import ZendeskCreate
from adapters.zendesk_pull import build_zendesk_client
from bot.slack.blocks import build_intake_reply
from bot.slack.intake import Intake
from bot.tickets.upstreams import Upstreams
from tests.fakes.zendesk import FakeZendesk, point_zenpy_at, zendesk_config

TS = "1732712345.000100"


def message(text, ts=TS, user="U0ALICE"):
    return {"type": "message", "user": user, "text": text, "ts": ts}


@pytest.fixture
def zendesk(monkeypatch):
    with FakeZendesk() as fake:
        point_zenpy_at(fake, monkeypatch)
        yield fake


def intake_with(store, zendesk) -> Intake:
    client = build_zendesk_client(zendesk_config(zendesk), backoff_factor=0.01, timeout=10)
    return Intake(store, upstreams=Upstreams(zendesk=ZendeskCreate(client, zendesk.subdomain)))


def test_a_tagged_ticket_made_a_minute_ago_is_read_and_stored_before_the_link(store, zendesk):
    zendesk.add_ticket(5001, subject="Made by hand a minute ago", status="open")
    result = intake_with(store, zendesk).ingest_message(message("broken ticketId=ZD-5001"), "C0BUGS")
    assert result.ticket_id == "ZD-5001" and not result.problems and not result.notes
    assert {r.source_system for r in store.show("ZD-5001").records} == {"zendesk", "slack"}
    assert store.get_record("zendesk", "5001").title == "Made by hand a minute ago"


def test_a_tagged_typo_is_not_linked_and_the_answer_says_why(store, zendesk):
    result = intake_with(store, zendesk).ingest_message(message("broken ticketId=ZD-5002"), "C0BUGS")
    assert result.ticket_id == f"SL-{TS}" and result.linked is None
    assert "ZD-5002 is not a ticket or report you can see here" in build_intake_reply(result).text
    assert store.get_record("slack", TS) is not None  # the report is stored all the same


def test_a_reply_tag_too_and_an_unconfigured_system_links_with_a_note(store, zendesk):
    intake = intake_with(store, zendesk)
    intake.ingest_message(message("broken"), "C0BUGS")
    reply = {**message("ticketId=SC-44", ts="1732712399.000001"), "thread_ts": TS}
    result = intake.thread_reply(reply, "C0BUGS")
    assert result.linked == f"SL-{TS} -> SC-44"
    assert result.notes == ("SC-44 is not known here (Shortcut is not configured); linked all the same",)
    assert "SC-44 is not known here" in build_intake_reply(result).text
