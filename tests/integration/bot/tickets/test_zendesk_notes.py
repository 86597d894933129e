"""The loop back to support over real zenpy and the fake Zendesk: one internal note per linked ticket when a
story is done, exactly once across retries, a lost answer and two instances; again after a reopen."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from dataclasses import replace

import pytest

from adapters.zendesk_notes import ZendeskNotes
from adapters.zendesk_pull import build_zendesk_client
from bot.metrics.registry import ZENDESK_NOTES
from bot.slack.claims import PREFIX, Claims
from bot.tickets.notes import PENDING_KEY, SupportNotes, fan_out, marker
from tests.fakes.json_http import Fault
from tests.fakes.zendesk import FakeZendesk, point_zenpy_at, zendesk_config
from tests.support.builders import shortcut_record, zendesk_record


@pytest.fixture
def fake(monkeypatch):
    with FakeZendesk() as server:
        point_zenpy_at(server, monkeypatch)
        yield server


def instance(store, fake, owner: str) -> SupportNotes:
    client = build_zendesk_client(zendesk_config(fake), backoff_factor=0.01, timeout=10)
    return SupportNotes(
        store, ZendeskNotes(client), Claims(store, owner=owner, ttl_seconds=300), per_minute=6000
    )


def linked_story(store, fake, tickets=(5, 6)):
    store.upsert(shortcut_record(1, title="Checkout fails"))
    for number in tickets:
        fake.add_ticket(number, status="open")
        store.upsert(zendesk_record(number))
        store.link(f"ZD-{number}", "SC-1", actor="U1")


def done(n: int = 1, updated: int = 10, **fields):
    return shortcut_record(
        n, updated=updated, state="Done", state_type="done", title="Checkout fails", **fields
    )


def notes_of(fake, number):
    return [c["plain_body"] for c in fake.internal_notes(number)]


def test_a_done_story_notes_each_linked_ticket_once_and_again_after_a_reopen(sqlite_store, fake):
    store = sqlite_store
    linked_story(store, fake)
    notes = instance(store, fake, "one")
    sent = ZENDESK_NOTES.labels("sent")._value.get()

    store.upsert(done())
    notes.records_changed([done()])
    notes.records_changed([done()])  # the same story told twice (a page read again): one round
    assert notes.flush() == 2
    assert notes.flush() == 0 and store.get_meta(PENDING_KEY) == {"rounds": []}

    for number in (5, 6):
        (text,) = notes_of(fake, number)
        assert "SC-1" in text and "Checkout fails" in text and "Done" in text and "app.shortcut.com" in text
        assert all(c["public"] is False for c in fake.comments[number])  # never public
    assert ZENDESK_NOTES.labels("sent")._value.get() == sent + 2

    notes.records_changed([replace(done(updated=20), title="renamed")])  # still done: no new round
    reopened = shortcut_record(1, updated=30)
    notes.records_changed([reopened])
    notes.records_changed([done(updated=40)])
    assert notes.flush() == 2
    assert [len(notes_of(fake, n)) for n in (5, 6)] == [2, 2]
    assert marker("SC-1", 2) in notes_of(fake, 5)[1]


def test_a_lost_answer_is_settled_by_reading_the_comments(sqlite_store, fake):
    store = sqlite_store
    linked_story(store, fake, tickets=(5,))
    notes = instance(store, fake, "one")
    notes.records_changed([done()])
    failed = ZENDESK_NOTES.labels("failed")._value.get()
    fake.faults.append(
        Fault(502, body={"error": "bad gateway"}, after=True)
    )  # the note is added, the answer lost

    assert notes.flush() == 0
    assert len(notes_of(fake, 5)) == 1 and store.get_meta(PENDING_KEY)["rounds"] == ["SC-1#1"]
    assert ZENDESK_NOTES.labels("failed")._value.get() == failed + 1

    assert notes.flush() == 0  # the comments show the note: settled, not sent again
    assert len(notes_of(fake, 5)) == 1 and store.get_meta(PENDING_KEY)["rounds"] == []
    assert any("/comments.json" in path for _, path, _ in fake.requests)


def test_a_note_lost_before_it_reached_zendesk_is_sent_again(sqlite_store, fake):
    store = sqlite_store
    linked_story(store, fake, tickets=(5,))
    notes = instance(store, fake, "one")
    notes.records_changed([done()])
    fake.faults.append(Fault(503, body={"error": "unavailable"}))  # refused before it was carried out
    assert notes.flush() == 0 and notes_of(fake, 5) == []
    assert notes.flush() == 1 and len(notes_of(fake, 5)) == 1


def test_a_closed_ticket_is_refused_once_and_never_retried(sqlite_store, fake):
    store = sqlite_store
    linked_story(store, fake, tickets=(5, 6))
    fake.touch(6, status="closed")
    notes = instance(store, fake, "one")
    refused = ZENDESK_NOTES.labels("refused")._value.get()
    notes.records_changed([done()])
    assert notes.flush() == 1 and notes.flush() == 0
    assert ZENDESK_NOTES.labels("refused")._value.get() == refused + 1
    assert len(notes_of(fake, 5)) == 1 and fake.comments.get(6, []) == []


def test_two_instances_send_each_note_once(dynamodb_store, fake):
    store = dynamodb_store
    linked_story(store, fake, tickets=(5, 6, 7, 8))
    first, second = instance(store, fake, "one"), instance(store, fake, "two")
    first.records_changed([done()])
    fake.delay = 0.05  # both are mid-flush together
    threads = [threading.Thread(target=each.flush) for each in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    while first.pending() or second.pending():  # what one left to the other (a claim it saw held)
        first.flush()
    assert [len(notes_of(fake, n)) for n in (5, 6, 7, 8)] == [1, 1, 1, 1]


@pytest.fixture
def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_claim_held_by_a_process_gone_from_this_host_is_taken_over_at_once(sqlite_store, fake, dead_pid):
    store = sqlite_store
    linked_story(store, fake, tickets=(5, 6))
    notes = instance(store, fake, "one")
    notes.records_changed([done()])
    here = socket.gethostname()
    # killed mid-send: one note's claim still held by it (300 s to go), its meta `sending`, nothing sent
    key = "note:SC-1:1:ZD-5"
    assert store.claim(PREFIX + key, f"{here}:{dead_pid}:deadbeef", 300)
    store.put_meta(key, {"status": "sending", "at": 1})
    # one held elsewhere cannot be told from a live one: it is left until it expires
    assert store.claim(PREFIX + "note:SC-1:1:ZD-6", f"another-host:{dead_pid}:deadbeef", 300)
    notes.flush()
    assert [len(notes_of(fake, n)) for n in (5, 6)] == [1, 0]
    assert store.lease_holder(PREFIX + key).owner == "one"
    assert notes.pending()  # ZD-6 waits for its claim to expire


def test_fan_out_tells_every_notifier():
    heard: list[str] = []

    class Ear:
        def __init__(self, name):
            self.name = name

        def records_changed(self, records):
            heard.append(f"{self.name}:{len(records)}")

        def pull_finished(self, source):
            heard.append(f"{self.name}:{source}")

    assert fan_out(None, None) is None
    single = Ear("a")
    assert fan_out(single, None) is single
    both = fan_out(Ear("a"), Ear("b"))
    both.records_changed([replace(zendesk_record(1))])
    both.pull_finished("shortcut")
    assert heard == ["a:1", "b:1", "a:shortcut", "b:shortcut"]
