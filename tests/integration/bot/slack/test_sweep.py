"""The sweep (bot/slack/sweep.py) with the real WebClient on the fake Slack, on both stores: what the history
holds and the store does not is stored once and answered once; edits, thread replies and tags while the bot
was away are applied; paging survives HTTP 429; the low-water mark never passes a report not stored."""

import time

import pytest

from bot.bootstrap import build_slack_client
from bot.config import SlackConfig
from bot.slack.claims import Claims
from bot.slack.delivery import post_reply
from bot.slack.intake import Intake
from bot.slack.sweep import Sweeper, fetch_message
from bot.slack.watermark import key
from storage.errors import StoreUnavailable
from tests.fakes.slack_server import FakeSlack

CHANNEL = "C0BUGS"


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


def make(fake, store, **intake_options):
    config = SlackConfig("xoxb-test-token", "xapp-test-token", (CHANNEL,), fake.api_url, (), True)
    client = build_slack_client(config)
    intake = Intake(store, fetch_message=fetch_message(client), **intake_options)
    claims = Claims(store)
    sweeper = Sweeper(client, intake, (CHANNEL,), lambda channel, result: post_reply(
        client, channel, result, claims=claims), every_seconds=0)  # fmt: skip
    return intake, sweeper


def started(fake, store, **options):
    """A sweeper whose channel was started an hour before the fake's first message."""
    intake, sweeper = make(fake, store, **options)
    intake.watermarks.begin(CHANNEL, time.time() - 7200)
    return intake, sweeper


def test_first_sweep_only_sets_the_start_mark(fake, store):
    fake.message(CHANNEL, "an old bug from before the bot")
    intake, sweeper = make(fake, store)
    assert sweeper.run() == 0
    assert store.get_meta(key(CHANNEL))["start"] and fake.posts == []


def test_missing_reports_are_stored_and_answered_once_by_every_sweep(fake, store):
    intake, sweeper = started(fake, store)
    missed = [fake.message(CHANNEL, f"bug {n} priority=High") for n in range(3)]
    assert sweeper.run() == 3
    assert sweeper.run() == 0  # idempotent
    assert [store.get_record("slack", m["ts"]).priority for m in missed] == ["High"] * 3
    assert sorted(post["thread_ts"] for post in fake.posts) == sorted(m["ts"] for m in missed)
    saved = float(store.get_meta(key(CHANNEL))["ts"])
    assert saved >= float(missed[-1]["ts"])


def test_two_sweepers_on_one_store_answer_each_report_once(fake, store):
    _, first = started(fake, store)
    _, second = make(fake, store)
    edited = fake.message(CHANNEL, "bug")
    first.run()
    fake.edit(CHANNEL, edited["ts"], "bug priority=Low")  # an edit whose tags changed earns an answer
    results = [first.run(), second.run()]
    assert results.count(1) >= 1
    assert len(fake.posts) == 2  # one for the report, one for the edit: never twice


def test_edits_newer_than_stored_are_applied_and_bot_edits_are_not(fake, store):
    intake, sweeper = started(fake, store)
    report = fake.message(CHANNEL, "login broken")
    sweeper.run()
    fake.edit(CHANNEL, report["ts"], "login broken priority=Critical")
    sweeper.run()
    assert store.get_record("slack", report["ts"]).priority == "Critical"
    bot_edit = {"subtype": "message_changed", "channel": CHANNEL, "ts": fake.next_ts(),
                "message": {"type": "message", "user": "U0OTHER", "bot_id": "B0OTHER", "ts": fake.next_ts(),
                            "thread_ts": report["ts"], "text": "ticketId=ZD-4003",
                            "edited": {"ts": fake.next_ts()}}}  # fmt: skip
    assert intake.edit_message(bot_edit) is None
    assert store.resolve(f"SL-{report['ts']}") == (f"SL-{report['ts']}",)


def test_edit_of_a_message_older_than_the_start_that_was_never_stored_is_ignored(fake, store):
    old = fake.message(CHANNEL, "from before the bot")
    intake, _ = make(fake, store)
    intake.watermarks.begin(CHANNEL, time.time())
    event = fake.edit(CHANNEL, old["ts"], "from before the bot priority=High")
    assert intake.edit_message(event) is None
    assert store.get_record("slack", old["ts"]) is None


def test_tagged_replies_while_away_link_the_report(fake, store):
    intake, sweeper = started(fake, store)
    report = fake.message(CHANNEL, "checkout fails")
    sweeper.run()
    fake.message(CHANNEL, "same as ticketId=ZD-9001", user="U0ALICE", thread_ts=report["ts"])
    sweeper.run()
    assert store.resolve(f"SL-{report['ts']}")[-1] == "ZD-9001"
    assert any("ZD-9001" in post["text"] for post in fake.posts)
    assert "conversations.replies" in fake.calls


def test_a_tagged_reply_whose_parent_is_only_in_history_links_it(fake, store):
    intake, _ = started(fake, store)
    parent = fake.message(CHANNEL, "export is empty priority=Low")  # posted while the bot was down
    reply = fake.message(CHANNEL, "ticketId=SC-77", thread_ts=parent["ts"])
    result = intake.thread_reply({**reply, "channel": CHANNEL}, CHANNEL)
    assert result is not None and result.linked == f"SL-{parent['ts']} -> SC-77"
    assert store.get_record("slack", parent["ts"]).priority == "Low"


def test_history_paging_survives_429_with_retry_after(fake, store):
    intake, sweeper = started(fake, store)
    for n in range(5):
        fake.message(CHANNEL, f"bug {n}")
    fake.rate_limit("conversations.history", times=2, retry_after=1)
    began = time.monotonic()
    assert sweeper.run() == 5
    assert fake.rate_limited == ["conversations.history"] * 2
    assert time.monotonic() - began >= 2  # the Retry-After was honoured, twice


def test_the_mark_never_passes_a_report_that_is_not_stored(fake, store):
    intake, sweeper = started(fake, store)
    first = fake.message(CHANNEL, "stored")
    sweeper.run()
    failing = fake.message(CHANNEL, "the store fails on this one")
    later = fake.message(CHANNEL, "stored after")
    real_insert = store.try_insert  # a new report's one write

    def unreachable(record, **options):
        if record.record_id == failing["ts"]:
            raise StoreUnavailable("cannot reach the store")
        return real_insert(record, **options)

    store.try_insert = unreachable
    with pytest.raises(StoreUnavailable):
        intake.ingest_message(failing, CHANNEL)
    intake.ingest_message(later, CHANNEL)
    intake.watermarks.flush(force=True)
    assert float(first["ts"]) <= float(store.get_meta(key(CHANNEL))["ts"]) < float(failing["ts"])
    assert intake.health.problem() is None  # the last call worked
    store.try_insert = real_insert
    sweeper.run()
    assert store.get_record("slack", failing["ts"]) is not None
    assert float(store.get_meta(key(CHANNEL))["ts"]) >= float(later["ts"])


def test_reports_deleted_while_the_bot_was_away_are_erased_by_the_sweep(fake, store):
    """A report gone from the history (or left as a tombstone) is erased like a live delete; one
    posted just before the history was read is not judged deleted."""
    intake, sweeper = started(fake, store)
    old = time.time() - 600
    gone = fake.message(CHANNEL, "salary of Jane Doe wrong priority=High", ts=f"{old:.6f}")
    threaded = fake.message(CHANNEL, "payroll of ACME broken", ts=f"{old + 1:.6f}")
    fake.message(CHANNEL, "me too", user="U0BOB", thread_ts=threaded["ts"], ts=f"{old + 2:.6f}")
    kept = fake.message(CHANNEL, "checkout broken", ts=f"{old + 3:.6f}")
    sweeper.run()
    assert store.get_record("slack", gone["ts"]).attributes["text"].startswith("salary")
    fake.delete(CHANNEL, gone["ts"])
    fake.delete(CHANNEL, threaded["ts"])  # has a reply: a tombstone stays
    fresh = fake.message(CHANNEL, "posted a moment ago")
    intake.ingest_message(fresh, CHANNEL)
    fake.history[CHANNEL].remove(fresh)  # not in the history read yet: too young to be judged deleted
    assert sweeper.run() == 2
    for message in (gone, threaded):
        erased = store.get_record("slack", message["ts"])
        assert erased.deleted and erased.attributes == {"author": "U0ALICE", "channel": CHANNEL}
        assert erased.title == "" and "Jane" not in repr(erased) and "ACME" not in repr(erased)
    assert not store.get_record("slack", kept["ts"]).deleted
    assert not store.get_record("slack", fresh["ts"]).deleted
    assert sweeper.run() == 0  # erased once
