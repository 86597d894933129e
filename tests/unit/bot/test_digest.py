"""The daily digest over the embedded store: what it says, due at the local time, posted once a day per
channel whatever the number of instances, within the channel's rule."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.digest import DigestWorker, DoneLog, parse_at
from bot.slack.digest_blocks import build_digest_blocks
from tests.support.builders import BASE_EPOCH, shortcut_record, slack_record, zendesk_record

BERLIN = ZoneInfo("Europe/Berlin")
DAY = 86_400


class Rule:
    def __init__(self, fits: bool = True) -> None:
        self.fits = fits

    def tickets_fit(self, channel: str) -> bool:
        return self.fits


def at(hour: int, minute: int = 0, day: int = 3) -> datetime:
    """A moment in Berlin, days after the records' base time."""
    base = datetime.fromtimestamp(BASE_EPOCH, UTC).astimezone(BERLIN) + timedelta(days=day)
    return base.replace(hour=hour, minute=minute, second=0, microsecond=0)


def report(n: int, channel: str = "C0BUGS", priority: str | None = None, text: str = "broken"):
    record = slack_record(n, text=f"{text} {n} <!channel>", priority=priority)
    return replace(record, attributes={**record.attributes, "channel": channel, "author": f"U{n}"})


def seeded(store):
    store.upsert(shortcut_record(1, title="Checkout fails"))
    store.upsert_many([report(11), report(12), report(13, "C0OTHER")])
    for n in (11, 12):
        store.link(report(n).home_id, "SC-1", actor="U9")
    store.upsert_many([report(21, priority="Low"), report(22, priority="Critical"), report(23, "C0OTHER")])
    fresh = replace(
        report(24, priority="High"), created_at=at(8).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    )
    store.upsert(fresh)  # less than a day old at 09:00: not stale yet
    store.upsert(zendesk_record(31))


def worker(store, posts, clock, owner="one", rule=None):
    return DigestWorker(
        store,
        ("C0BUGS", "C0OTHER"),
        parse_at("09:00"),
        BERLIN,
        posts.append,
        rule or Rule(),
        owner,
        clock=clock,
    )


def test_the_digest_says_what_hurts_what_waits_and_what_was_done(sqlite_store):
    store, posts = sqlite_store, []
    seeded(store)
    done_log = DoneLog(store)
    done_log.records_changed([zendesk_record(31)])  # open: nothing done
    solved = zendesk_record(31, updated=5, status="solved")
    store.upsert(solved)
    done_log.records_changed([solved])

    assert worker(store, posts, lambda: at(8, 59)).post_due() == []  # not yet due
    assert worker(store, posts, lambda: at(9, 1)).post_due() == ["C0BUGS", "C0OTHER"]

    bugs = next(post for post in posts if post.channel == "C0BUGS")
    assert [bug.ticket_id for bug in bugs.top][0] == "SC-1" and bugs.top[0].numbers.reports == 2
    assert [r.home_id for r in bugs.stale] == [report(22).home_id, report(21).home_id]  # Critical first
    assert [item.ticket_id for item in bugs.done] == ["ZD-31"]
    other = next(post for post in posts if post.channel == "C0OTHER")
    assert [r.home_id for r in other.stale] == [report(13).home_id, report(23).home_id]  # oldest first
    assert all(bug.numbers.reports <= 1 for bug in other.top)  # C0BUGS's reports are not counted there
    text = str(build_digest_blocks(bugs))
    assert "Hurts most" in text and "<!channel>" not in text and "ZD-31" in text


def test_posted_once_a_day_across_instances_and_again_the_next_day(sqlite_store):
    store, posts = sqlite_store, []
    seeded(store)
    now = [at(9, 5)]
    instances = [worker(store, posts, lambda: now[0], owner=f"instance-{n}") for n in range(3)]
    threads = [threading.Thread(target=each.post_due) for each in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for each in instances:
        each.post_due()  # a restart, a retry: nothing more
    assert sorted(post.channel for post in posts) == ["C0BUGS", "C0OTHER"]

    now[0] = at(9, 5, day=4)
    instances[1].post_due()
    assert len(posts) == 4 and posts[-1].since is not None


def test_a_channel_that_may_not_see_tickets_gets_none(sqlite_store):
    store, posts = sqlite_store, []
    seeded(store)
    DoneLog(store).records_changed([zendesk_record(31, updated=5, status="solved")])
    worker(store, posts, lambda: at(9, 1), rule=Rule(fits=False)).post_due()
    bugs = next(post for post in posts if post.channel == "C0BUGS")
    assert bugs.done == [] and all(bug.numbers.tickets == 0 and bug.numbers.stories == 0 for bug in bugs.top)
    assert bugs.top and all(bug.title == "" for bug in bugs.top if bug.ticket_id.startswith("SC-"))
