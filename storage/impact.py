"""Impact per bug: what the records living under one ticket id add up to, kept on the write path.

A bug is the group of records living under one ticket id. Its impact is a small tally kept in one item beside
the records (`#impact` under the ticket id on DynamoDB, a row of `impact` on SQLite), changed in the same
commit as the records it counts (storage/store.py adds it to every commit that writes records), so it stays
exact without a scan; `recount` rebuilds it from the records when a crash left it behind.

The tally holds flat counters (only live records, i.e. not deleted upstream, count):
  <source>                 records of that source (slack, zendesk, shortcut)
  open:<source>            of those, not in a done state (an archived story is done)
  priority:<P>             records of that priority
  channel:<C>              Slack reports posted in channel C
  person:slack:<C>:<U>     Slack reports by U in channel C (kept by channel: the readers rule is by channel)
  person:zendesk:<R>       Zendesk tickets requested by R
  hour:<YYYY-MM-DDTHH>     records created that UTC hour (the bug's age is its oldest hour)
and the ticket's own record (the one whose home id is the ticket id), which gives the bug its title, state and
link. Whoever asks gets numbers counted over what they may read (`Impact.visible`).

Done: a bug with Shortcut stories is done when every one of them is done; without a story, when it has
Zendesk tickets and all of them are done; Slack reports alone are never done. Open bugs carry a rank key
(people, then reports + tickets, then highest priority) in a sparse index, so the ranked list is one read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from storage.model import PRIORITIES, BugRecord
from storage.primitives import InsertRecord, MoveRecord, ReplaceRecord

ROOT_FIELDS = ("title", "url", "state", "state_type", "source_system", "channel", "created_at")
_PRIORITY_SCORE = {priority: len(PRIORITIES) - number for number, priority in enumerate(PRIORITIES)}


@dataclass(frozen=True)
class Root:
    """The ticket's own record, as the bug's title line shows it."""

    source_system: str
    title: str
    url: str | None
    state: str | None
    state_type: str | None
    # a Slack report's channel, or the channel a ticket / story created from a private channel's report
    # is read in (its `visible_to`, until a pull writes it again): its title is shown only to its readers
    channel: str | None
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name, value in vars(self).items() if value is not None}

    @staticmethod
    def from_dict(values: Mapping[str, Any] | None) -> Root | None:
        if not values:
            return None
        return Root(
            source_system=str(values["source_system"]),
            title=str(values.get("title", "")),
            url=values.get("url"),
            state=values.get("state"),
            state_type=values.get("state_type"),
            channel=values.get("channel"),
            created_at=str(values.get("created_at", "")),
        )


@dataclass(frozen=True)
class Numbers:
    """What one reader sees of a bug's impact."""

    reports: int
    tickets: int
    stories: int
    people: int
    customers: int  # distinct Zendesk requesters
    priority: str | None  # the highest priority among the records counted
    first_hour: str | None  # YYYY-MM-DDTHH of the oldest record (UTC)


@dataclass(frozen=True)
class Impact:
    ticket_id: str
    counts: dict[str, int] = field(default_factory=dict)
    root: Root | None = None
    revision: int = 0  # bumped by every write: the next write is conditional on it

    # -- derived ------------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        stories, tickets = self.counts.get("shortcut", 0), self.counts.get("zendesk", 0)
        if stories:
            return not self.counts.get("open:shortcut", 0)
        return bool(tickets) and not self.counts.get("open:zendesk", 0)

    @property
    def is_open(self) -> bool:
        return bool(self.counts) and not self.done

    def visible(self, channels: Iterable[str] | None = None, others: bool | None = None) -> Numbers:
        """The numbers over what a reader may read: Slack reports of `channels` (None: every channel), and
        Zendesk / Shortcut records when the reader reads any bug channel (None or a non-empty set), or as
        `others` says (a channel some of whose members may not read tickets)."""
        allowed = None if channels is None else frozenset(channels)
        if others is None:
            others = allowed is None or bool(allowed)
        reports = 0
        people: set[str] = set()
        customers: set[str] = set()
        for name, number in self.counts.items():
            if number <= 0:
                continue
            if name.startswith("channel:") and (allowed is None or name[8:] in allowed):
                reports += number
            elif name.startswith("person:slack:"):
                channel, _, user = name[13:].partition(":")
                if allowed is None or channel in allowed:
                    people.add(f"slack:{user}")
            elif name.startswith("person:zendesk:") and others:
                customers.add(name[15:])
        tickets = self.counts.get("zendesk", 0) if others else 0
        stories = self.counts.get("shortcut", 0) if others else 0
        priority = self._priority(allowed, others)
        hours = sorted(
            name[5:] for name, number in self.counts.items() if name.startswith("hour:") and number
        )
        return Numbers(
            reports=reports,
            tickets=tickets,
            stories=stories,
            people=len(people) + len(customers),
            customers=len(customers),
            priority=priority,
            first_hour=hours[0] if hours and (reports or tickets or stories) else None,
        )

    def _priority(self, allowed: frozenset[str] | None, others: bool) -> str | None:
        # Priorities are kept per bug, not per channel: a reader who sees only part of a bug sees the highest
        # priority only when every record is visible to them (a private report's priority is not leaked).
        if allowed is not None:
            channels = [
                name[8:] for name, number in self.counts.items() if name.startswith("channel:") and number
            ]
            if not others or any(channel not in allowed for channel in channels):
                return None
        for priority in PRIORITIES:
            if self.counts.get(f"priority:{priority}", 0) > 0:
                return priority
        return None

    def root_visible(self, channels: Iterable[str] | None = None, others: bool | None = None) -> Root | None:
        if self.root is None:
            return None
        if channels is None:
            return self.root
        allowed = frozenset(channels)
        if self.root.source_system == "slack" or self.root.channel is not None:
            return self.root if self.root.channel in allowed else None
        return self.root if (bool(allowed) if others is None else others) else None

    @property
    def rank(self) -> str | None:
        """The sort key of an open bug in the ranked index (None: done or empty, not in the index)."""
        if not self.is_open:
            return None
        numbers = self.visible()
        score = _PRIORITY_SCORE.get(numbers.priority or "", 0)
        return f"{numbers.people:07d}#{numbers.reports + numbers.tickets:07d}#{score}#{self.ticket_id}"


def person_of(record: BugRecord) -> str | None:
    attributes = record.attributes
    if record.source_system == "slack":
        author = attributes.get("author")
        return f"person:slack:{attributes.get('channel') or ''}:{author}" if author else None
    if record.source_system == "zendesk":
        requester = attributes.get("requester")
        if isinstance(requester, Mapping):
            requester = requester.get("id") or requester.get("email")
        return f"person:zendesk:{requester}" if requester not in (None, "") else None
    return None


def contribution(record: BugRecord) -> Counter[str]:
    """What one live record adds to the tally of the bug it lives under (a deleted one: nothing)."""
    if record.deleted:
        return Counter()
    source = record.source_system
    added = Counter({source: 1, f"hour:{record.created_at[:13]}": 1})
    if record.state_type != "done":
        added[f"open:{source}"] += 1
    if record.priority:
        added[f"priority:{record.priority}"] += 1
    if source == "slack":
        added[f"channel:{record.attributes.get('channel') or ''}"] += 1
    person = person_of(record)
    if person:
        added[person] += 1
    return added


def root_of(record: BugRecord) -> Root | None:
    if record.deleted:
        return None
    narrower = "channel" if record.source_system == "slack" else "visible_to"
    channel = record.attributes.get(narrower)
    return Root(
        source_system=record.source_system,
        title=record.title,
        url=record.url,
        state=record.state,
        state_type=record.state_type,
        channel=str(channel) if channel else None,
        created_at=record.created_at,
    )


KEEP = object()  # a change that leaves the ticket's own record as it is


@dataclass
class Change:
    """What one commit does to one bug's tally."""

    counts: Counter[str] = field(default_factory=Counter)
    root: Root | None | object = KEEP

    def add(self, record: BugRecord, location: str, sign: int) -> None:
        piece = contribution(record)
        if sign > 0:
            self.counts.update(piece)
        else:
            self.counts.subtract(piece)
        if record.home_id == location:
            self.root = root_of(record) if sign > 0 else None


def changes(writes: Iterable[object]) -> dict[str, Change]:
    """Per ticket id, what a commit's record writes change (storage/primitives.py)."""
    found: dict[str, Change] = {}
    for write in writes:
        match write:
            case InsertRecord(record=record, location=location):
                found.setdefault(location, Change()).add(record, location, +1)
            case ReplaceRecord(record=record, seen=seen):
                location = seen.location
                change = found.setdefault(location, Change())
                change.add(seen, location, -1)
                change.add(record, location, +1)
            case MoveRecord(record=record, source=source, destination=destination):
                found.setdefault(source, Change()).add(record, source, -1)
                found.setdefault(destination, Change()).add(record, destination, +1)
    return found


def apply(ticket_id: str, before: Impact | None, change: Change) -> Impact | None:
    """The tally after change (None: nothing left to count, the item goes)."""
    counts = Counter(before.counts if before is not None else {})
    counts.update(change.counts)
    kept = {name: number for name, number in sorted(counts.items()) if number}
    root = (before.root if before is not None else None) if change.root is KEEP else change.root
    assert root is None or isinstance(root, Root)
    if not kept and root is None:
        return None
    revision = before.revision + 1 if before is not None else 1
    return Impact(ticket_id, kept, root, revision)


class Tally:
    """Every bug's impact from scratch (the recount), fed the records as one pass reads them."""

    def __init__(self) -> None:
        self.found: dict[str, Change] = {}

    def feed(self, records: Iterable[BugRecord]) -> Iterator[BugRecord]:
        for record in records:
            self.found.setdefault(record.location, Change()).add(record, record.location, +1)
            yield record

    def result(self) -> dict[str, Impact]:
        result = {}
        for ticket_id, change in self.found.items():
            impact = apply(ticket_id, None, change)
            if impact is not None:
                result[ticket_id] = replace(impact, revision=0)
        return result


def of_records(ticket_id: str, records: Iterable[BugRecord]) -> Impact:
    """The tally of the records given (e.g. what a card shows), wherever they live."""
    change = Change()
    for record in records:
        change.counts.update(contribution(record))
    return Impact(ticket_id, {name: number for name, number in change.counts.items() if number})


def tally(records: Iterable[BugRecord]) -> dict[str, Impact]:
    counting = Tally()
    for _ in counting.feed(records):
        pass
    return counting.result()


def same(first: Impact | None, second: Impact | None) -> bool:
    """Equal tallies and roots, whatever their revisions."""
    if first is None or second is None:
        return first is second
    return first.counts == second.counts and first.root == second.root
