"""Answers across a crash, on both stores: a process stopped after posting answers but before the channel's
mark that says so was saved. The next process's sweep reads those reports back as possibly unanswered; each is
still answered exactly once, whether its answer was a thread reply or a folded channel message."""

import re
from collections import Counter

import pytest
from slack_sdk import WebClient

from bot.bootstrap import SlackParts, build_slack_parts
from bot.config import SlackConfig
from bot.slack import sweep
from bot.slack.claims import Claims
from bot.slack.watermark import key
from tests.fakes.slack_server import FakeSlack

CHANNEL = "C0BUGS"


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


def process(fake: FakeSlack, store) -> SlackParts:
    """One bot process's Slack side on `store` (its answer queue and sweep not started)."""
    config = SlackConfig("xoxb-test-token", "xapp-test-token", (CHANNEL,), fake.api_url, (), True)
    client = WebClient(token="xoxb-test-token", base_url=fake.api_url)
    return build_slack_parts(config, store, client, client.auth_test().data)


def answers(parts: SlackParts) -> None:
    """Run the process's answer queue until nothing waits, then stop it."""
    parts.answers.start()
    try:
        assert parts.answers.wait_idle(20)
    finally:
        parts.answers.stop()


def answered(fake: FakeSlack, reports: list[dict]) -> Counter:
    """How many times each report was answered: in its thread, or named by a folded channel message."""
    count: Counter = Counter()
    ids = {f"SL-{report['ts']}": report["ts"] for report in reports}
    for post in fake.posts:
        if post.get("thread_ts"):
            count[post["thread_ts"]] += 1
        else:
            count.update(ids[found] for found in re.findall(r"SL-\d+\.\d+", post.get("text") or ""))
    return count


def test_a_crash_after_a_fold_before_the_mark_is_saved_neither_repeats_nor_loses_an_answer(
    fake, store, monkeypatch
):
    monkeypatch.setattr(sweep, "REDERIVE_AFTER_SECONDS", 0.0)  # the next process answers at its first sweep
    first = process(fake, store)
    first.sweeper.run()  # the bot's first start in the channel: its mark begins now
    reports = [fake.message(CHANNEL, f"Checkout is down ({n})") for n in range(6)]
    for report in reports:
        first.deps.delivery.on_event({**report, "channel": CHANNEL}, CHANNEL)
    # a backlog: past 3 waiting, the oldest 3 are folded into one channel message, the rest answered alone
    first.answers.fold_at, first.answers.fold_size = 3, 3
    answers(first)
    assert [post.get("thread_ts") for post in fake.posts] == [None, *(r["ts"] for r in reports[3:])]
    # killed now: every answer is posted, but the mark saying so was never saved
    assert float(store.get_meta(key(CHANNEL))["ts"]) < float(reports[0]["ts"])

    second = process(fake, store)
    second.sweeper.run()  # reads the six back: stored, maybe unanswered
    answers(second)
    assert answered(fake, reports) == {report["ts"]: 1 for report in reports}
    second.sweeper.run()
    answers(second)
    assert answered(fake, reports) == {report["ts"]: 1 for report in reports}  # and never later either


def test_an_answer_slack_could_not_take_for_now_is_posted_by_the_sweep_once(fake, store, monkeypatch):
    monkeypatch.setattr(sweep, "REDERIVE_AFTER_SECONDS", 0.0)  # the sweep answers at its first look
    bot = process(fake, store)
    bot.sweeper.run()
    report = fake.message(CHANNEL, "Checkout is down")
    bot.answers.start()
    try:
        fake.fail("chat.postMessage", "service_unavailable")
        bot.deps.delivery.on_event({**report, "channel": CHANNEL}, CHANNEL)
        assert bot.answers.wait_idle(20) and fake.posts == []
        assert bot.intake.watermarks.mark(CHANNEL) < float(report["ts"])  # still held: not answered
        fake.fail("chat.postMessage", None)
        for _ in range(2):  # the next sweep answers it; the one after finds it answered
            bot.sweeper.run()
            assert bot.answers.wait_idle(20)
    finally:
        bot.answers.stop()
    assert answered(fake, [report]) == {report["ts"]: 1}
    assert bot.intake.watermarks.mark(CHANNEL) >= float(report["ts"])


def test_a_fold_names_only_the_reports_it_claimed(fake, store):
    # folded answers waited long: another instance's sweep may have claimed one of them meanwhile
    bot = process(fake, store)
    bot.sweeper.run()
    reports = [fake.message(CHANNEL, f"Checkout is down ({n})") for n in range(3)]
    for report in reports:
        bot.deps.delivery.on_event({**report, "channel": CHANNEL}, CHANNEL)
    key = f"answer:{CHANNEL}:SL-{reports[1]['ts']}:message:{reports[1]['ts']}"
    assert Claims(store, owner="another instance").once(key)
    bot.answers.fold_at, bot.answers.fold_size = 1, 3  # all three waiting: folded into one message
    answers(bot)
    assert [post.get("thread_ts") for post in fake.posts] == [None]
    assert answered(fake, reports) == {reports[0]["ts"]: 1, reports[2]["ts"]: 1}  # the other one is theirs
    [fold] = [message for message in fake.bot_messages.values() if not message.get("thread_ts")]
    assert fold["metadata"]["event_payload"]["reports"] == [reports[0]["ts"], reports[2]["ts"]]
