"""The daily digest (opt-in: BUG_DIGEST_AT=09:00, BUG_DIGEST_TZ=Europe/Berlin): one message in each bug
channel with the open bugs that hurt most, the reports still unlinked after a day (Critical and High first),
and what was done since the last digest. Transport-agnostic: the Slack poster and the channel rule are given.

- What a channel's digest shows is what every member of that channel may read (bot/slack/readers.py): its
  own reports, and Zendesk / Shortcut records only when the channel holds no one who may not read them.
- Once a day per channel across instances: a claim in the store (bot/slack/claims.py's store claim) for
  `digest:<channel>:<date>`, then the day recorded in meta `digest:<channel>` BEFORE posting, so a second
  instance, a restart or a retry never posts it twice (a crash in the second of posting may skip that day).
- What was done: the sync tells DoneLog (a ChangeNotifier, bot/sync/changes.py) of every story or ticket it
  wrote; each one reaching a done state is kept in meta `digest:done` (the last DONE_KEPT).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.slack.readers import channel_of
from bot.top import TopBug, top_bugs
from bot.worker import Worker
from storage.errors import BugTrackerError
from storage.model import ARCHIVED_STATE, PRIORITIES, BugRecord, format_timestamp, now_timestamp
from storage.store import BugStore

log = logging.getLogger(__name__)

TOP_SHOWN = 5
STALE_SHOWN = 10
STALE_AFTER = timedelta(days=1)
UNLINKED_PAGES = 5  # pages of 100 unlinked reports read at most for one channel's digest
DONE_KEY = "digest:done"
DONE_KEPT = 200
CLAIM_SECONDS = 600.0
CHECK_SECONDS = 60.0


@dataclass(frozen=True)
class DoneItem:
    ticket_id: str  # the record's own id (SC-12, ZD-5)
    title: str
    url: str | None
    at: str


@dataclass(frozen=True)
class Digest:
    channel: str
    top: list[TopBug]
    stale: list[BugRecord]
    done: list[DoneItem]
    since: str | None  # the last digest's time (None: the first)

    @property
    def empty(self) -> bool:
        return not (self.top or self.stale or self.done)


class ChannelRule(Protocol):
    def tickets_fit(self, channel: str) -> bool:
        """May Zendesk tickets and Shortcut stories be shown to everyone in channel?"""


def parse_at(text: str) -> time:
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


def is_done(record: BugRecord) -> bool:
    return record.state_type == "done" or record.state == ARCHIVED_STATE


class DoneLog:
    """The ChangeNotifier that remembers which stories and tickets reached a done state, and when."""

    def __init__(self, store: BugStore) -> None:
        self.store = store

    def records_changed(self, records: list[BugRecord]) -> None:
        for record in records:
            if record.source_system == "slack" or record.deleted:
                continue
            key = f"digest:state:{record.home_id}"
            was_done = bool((self.store.get_meta(key) or {}).get("done"))
            done = is_done(record)
            if done == was_done:
                continue
            if done:
                entries = list((self.store.get_meta(DONE_KEY) or {}).get("done") or [])
                item = {"ticket_id": record.home_id, "title": record.title[:200], "url": record.url}
                entries.append({**item, "at": now_timestamp()})
                self.store.put_meta(DONE_KEY, {"done": entries[-DONE_KEPT:]})
            self.store.put_meta(key, {"done": done})

    def pull_finished(self, source: str) -> None:
        pass


def build_digest(
    store: BugStore, channel: str, tickets_fit: bool, now: datetime, since: str | None
) -> Digest:
    others = tickets_fit
    top = top_bugs(store, TOP_SHOWN, {channel}, others=others)
    cutoff = format_timestamp(now - STALE_AFTER)
    stale: list[BugRecord] = []
    cursor = None
    for _ in range(UNLINKED_PAGES):
        page = store.unlinked_slack(limit=100, cursor=cursor)
        stale += [record for record in page.records if channel_of(record) == channel]
        cursor = page.next_cursor
        if cursor is None:
            break
    stale = [record for record in stale if record.created_at <= cutoff]
    rank = {priority: number for number, priority in enumerate(PRIORITIES)}
    stale.sort(key=lambda record: (rank.get(record.priority or "", len(PRIORITIES)), record.created_at))
    done: list[DoneItem] = []
    if tickets_fit:
        entries = (store.get_meta(DONE_KEY) or {}).get("done") or []
        done = [DoneItem(**entry) for entry in entries if since is None or entry["at"] > since]
    return Digest(channel, top, stale[:STALE_SHOWN], done[-10:], since)


class DigestWorker(Worker):
    """Checks every minute whether today's digest is due in each channel and posts it once."""

    def __init__(
        self,
        store: BugStore,
        channels: tuple[str, ...],
        at: time,
        zone: ZoneInfo,
        post: Callable[[Digest], Any],
        rule: ChannelRule,
        owner: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__("daily-digest", every=CHECK_SECONDS)
        self.store, self.channels, self.at, self.zone = store, channels, at, zone
        self.post, self.rule, self.owner, self.clock = post, rule, owner, clock

    def step(self) -> None:
        try:
            self.post_due()
        except BugTrackerError as exc:
            log.warning("daily digest not posted yet: %s", exc)

    def post_due(self) -> list[str]:
        """Post today's digest in each channel where it is due and not posted yet; the channels posted."""
        now = self.clock()
        local = now.astimezone(self.zone)
        if local.time() < self.at:
            return []
        today = local.date().isoformat()
        posted = []
        for channel in self.channels:
            key = f"digest:{channel}"
            if (self.store.get_meta(key) or {}).get("date") == today:
                continue
            if not self.store.claim(f"{key}:{today}", self.owner, CLAIM_SECONDS):
                continue  # another instance is posting it
            kept = self.store.get_meta(key) or {}
            if kept.get("date") == today:
                continue
            digest = build_digest(self.store, channel, self.rule.tickets_fit(channel), now, kept.get("at"))
            self.store.put_meta(key, {"date": today, "at": format_timestamp(now)})  # before: never twice
            self.post(digest)
            posted.append(channel)
        return posted
