"""Who may read what, and what may be posted where: the one rule every Slack surface asks (`/bug`, App Home,
suggestions, status cards, the link modal, linking). docs/privacy.md states it; `Readers` holds it.

A Slack report's readers are the members of the channel it was posted in (`conversations.members`, paged,
cached at most CACHE_SECONDS and kept current by `member_joined_channel` / `member_left_channel`, also while
a read is under way), plus the people and user groups named in BUG_READERS or BUG_LINKERS (they read every
bug channel). Guests and outsiders (people of another organisation, and every unnamed member of an
externally shared channel) read only when one of those lists names them: the guest / outsider map
(bot/slack/directory.py) answers from memory. Zendesk and Shortcut records are shown to whoever reads at
least one bug channel. What is posted into a channel must be readable by every member (`Readers.may_post`).
When Slack cannot tell us who is in a channel, nothing is shown (ReadersUnavailable, one line for the
person): fail closed. The console is local and is not asked (EVERYTHING).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.directory import Directory
from bot.slack.permissions import LinkerCheck, NamedUsers
from bot.tickets.link import Actor
from storage.errors import BugTrackerError
from storage.values import TicketView

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0  # members, guest flags and channel names are at most this old
NOTHING_SHOWN = "Nothing is shown; try again shortly."
LOOKUPS_PER_QUESTION = 10  # users.info calls one question may make for people the guest map does not hold
MEMBERS_PAGE = 200  # conversations.members page size (Slack advises at most 200)
# A Slack report's permalink (built by slack_message.py, never outside text): index rows carry the url but
# not the `channel` attribute, so the channel of a list row is read from it.
_PERMALINK_CHANNEL = re.compile(r"/archives/([CG][A-Z0-9]{2,40})/p[0-9]")


class ReadersUnavailable(BugTrackerError):
    """Slack did not say who is in a channel (or who is a guest): nothing is shown."""


def visible_to(record: Any) -> str | None:
    """A ticket / story created from a report of a narrower channel: that channel, until a pull writes the
    record again (the pull's copy does not carry it: the item is then public in its system anyway). A record
    says it in its attributes, a suggestion (bot/suggest/) and a bug's root line (storage/impact.py) in a
    field of their own."""
    attributes = getattr(record, "attributes", None) or {}
    narrower = attributes.get("visible_to") or getattr(record, "visible_to", None)
    return str(narrower) if narrower else None


def channel_of(record: Any) -> str | None:
    """The channel a Slack report (a record, an index row, a suggestion) was posted in; None when unknown."""
    attributes = getattr(record, "attributes", None) or {}
    if attributes.get("channel"):
        return str(attributes["channel"])
    match = _PERMALINK_CHANNEL.search(getattr(record, "url", None) or "")
    return match[1] if match else None


@dataclass(frozen=True)
class ReaderScope:
    """What one person may read: the bug channels whose Slack reports they see (`everything`: the console)."""

    channels: frozenset[str]
    everything: bool = False

    @property
    def reads_any(self) -> bool:
        return self.everything or bool(self.channels)

    def may_read_channel(self, channel: str | None) -> bool:
        return self.everything or channel in self.channels

    def may_read(self, record: Any) -> bool:
        """A record, an index row or a suggestion (anything with source_system and url / attributes)."""
        if self.everything:
            return True
        if getattr(record, "source_system", None) != "slack":
            narrower = visible_to(record)
            return bool(self.channels) if narrower is None else narrower in self.channels
        return channel_of(record) in self.channels

    def view(self, view: TicketView) -> tuple[TicketView, int]:
        """The view with only what this person may read, and how many records were left out. An audit line
        (who linked what) is shown only when both of its ids are ones this person may read."""
        shown = tuple(record for record in view.records if self.may_read(record))
        if self.everything:
            return replace(view, records=shown), len(view.records) - len(shown)
        by_id = {record.home_id: record for record in view.records}

        def readable(ticket_id: str) -> bool:
            record = by_id.get(ticket_id)
            if record is not None:
                return self.may_read(record)
            return not ticket_id.startswith("SL-") and self.reads_any  # a report elsewhere: channel unknown

        audit = tuple(entry for entry in view.audit if readable(entry.from_id) and readable(entry.to_id))
        return replace(view, records=shown, audit=audit), len(view.records) - len(shown)


EVERYTHING = ReaderScope(frozenset(), everything=True)


TITLE_WITHHELD = "(title not shown here: not everyone in this channel may read it)"


def withheld(record: Any) -> Any | None:
    """What a card may show of a record it may not show in full: a ticket's ids and states (its title and
    link withheld); another channel's Slack report not at all (None)."""
    if getattr(record, "source_system", None) == "slack":
        return None
    return replace(record, title=TITLE_WITHHELD, url=None)


@dataclass(frozen=True)
class _Report:
    """Any Slack report of `channel` (same_readers asks about a channel, not a record)."""

    channel: str
    source_system: str = "slack"

    @property
    def attributes(self) -> dict[str, str]:
        return {"channel": self.channel}


@dataclass(frozen=True)
class Audience:
    """Who reads what is posted in one channel: its members, whether it is private, and the members who
    may not read tickets or reports (unnamed guests and outsiders; in an externally shared channel every
    member BUG_READERS does not name)."""

    channel: str
    members: frozenset[str]
    private: bool
    bug_channel: bool
    ext_shared: bool
    strangers: frozenset[str]


class Readers:
    """The rule (docs/privacy.md), in one place.

    - A Slack report is read by its channel's readers: the channel's members who are neither guests nor
      outsiders, plus BUG_READERS / BUG_LINKERS (they read every bug channel).
    - A Zendesk ticket or Shortcut story is read by whoever reads at least one bug channel.
    - Into a channel goes only what EVERY member may read: a ticket only into a bug channel with no unnamed
      guest or outsider; a Slack report only into its own channel, or into a private channel whose members
      all read the report's channel (a public channel is readable by every full member of the workspace, so
      another channel's report never goes there)."""

    def __init__(
        self,
        client: WebClient,
        channels: tuple[str, ...],
        readers: tuple[str, ...] = (),
        linkers: tuple[str, ...] = (),
        clock: Callable[[], float] = time.monotonic,
        directory: Directory | None = None,
    ) -> None:
        self.client = client
        self.channels = tuple(channels)
        self.named = NamedUsers(client, tuple(dict.fromkeys((*readers, *linkers))))  # linkers are readers
        self.linkers = LinkerCheck(client, linkers)
        self.clock = clock
        # None: the team is not known, guests are still told apart (one users.info per person asked about)
        self.directory = directory if directory is not None else Directory(client, None)
        self._members: dict[str, tuple[set[str], float]] = {}
        self._reading: dict[str, list[tuple[bool, str]]] = {}  # channel -> joins/leaves seen during a read
        self._infos: dict[str, tuple[dict[str, Any], float]] = {}
        self._lock = threading.Lock()

    # -- the questions surfaces ask ------------------------------------------------------------------
    def scope(self, user: str) -> ReaderScope:
        """The bug channels whose reports `user` may read (raises ReadersUnavailable)."""
        with self._slack("who may read the bug reports"):
            if self.named(user):
                return ReaderScope(frozenset(self.channels))
            channels = frozenset(c for c in self.channels if user in self.members(c))
            if not channels or self.directory.lookup(user) != "full":
                return ReaderScope(frozenset())
            return ReaderScope(frozenset(c for c in channels if not self.info(c).get("is_ext_shared")))

    def actor(self, user: str) -> Actor:
        """`user` as the link path sees them (bot/tickets/link.py): what they read and what BUG_LINKERS
        says (raises ReadersUnavailable)."""
        scope = self.scope(user)
        with self._slack("who may link"):
            named = not self.linkers.everyone and self.linkers(user)
        return Actor(user, scope, linker=named, linkers_named=not self.linkers.everyone)

    def audience(self, channel: str) -> Audience:
        """Who reads `channel` (raises ReadersUnavailable, also while the guest map is still being read)."""
        with self._slack("who is in the channel"):
            info = self.info(channel)
            members = frozenset(self.members(channel))
            shared = bool(info.get("is_ext_shared"))
            unnamed = {member for member in members if not self.named(member)}
            unknown = self.directory.unknown_among(unnamed) if not shared else set()
            if len(unknown) <= LOOKUPS_PER_QUESTION:
                for user in unknown:  # joined since the map was read (or a small channel before it is)
                    self.directory.lookup(user)
            elif not self.directory.ready:
                raise ReadersUnavailable(
                    "I am still reading who is a guest in this workspace (it takes a minute after a start)."
                    f" {NOTHING_SHOWN}"
                )
            strangers = unnamed if shared else self.directory.outsiders_among(unnamed)
        return Audience(
            channel,
            members,
            private=bool(info.get("is_private")),
            bug_channel=channel in self.channels,
            ext_shared=shared,
            strangers=frozenset(strangers),
        )

    def may_post(self, audience: Audience, record: Any) -> bool:
        """May every member of `audience` read `record` (a record, an index row, a suggestion)?"""
        report = getattr(record, "source_system", None) == "slack"
        if not report and visible_to(record) is None:
            return audience.bug_channel and not audience.strangers
        origin = channel_of(record) if report else visible_to(record)
        if origin is None:
            return False
        if origin == audience.channel:
            return True  # its own channel: every member reads it there already
        if not audience.private or audience.strangers:
            return False
        with self._slack("who is in the bug channels"):
            if self.info(origin).get("is_ext_shared"):
                return False
            origin_members = self.members(origin)
        return all(member in origin_members or self.named(member) for member in audience.members)

    def same_readers(self, channel: str, other: str | None) -> bool:
        """Whoever may read what is posted in `channel` may read `other`'s reports (a private channel whose
        members all read `other`, or the same channel). Unknown channel: no."""
        if other is None:
            return False
        if channel == other:
            return True
        return self.may_post(self.audience(channel), _Report(other))

    def fits_channel(self, channel: str, record: Any, strict: bool = False) -> bool:
        """May `record` (a record, a suggestion) be shown in `channel` (a thread there, a status card)?
        Slack failing: no (a suggestion is left out), or with `strict` ReadersUnavailable (a status card
        waits for the next flush rather than showing less and changing back)."""
        try:
            if getattr(record, "source_system", None) == "slack" and channel_of(record) == channel:
                return True
            return self.may_post(self.audience(channel), record)
        except ReadersUnavailable as exc:
            if strict:
                raise
            log.warning("not shown in %s: %s", channel, exc)
            return False

    def public_problem(self, channel: str | None, records: Iterable[Any]) -> str | None:
        """Why `records` may not be posted for everyone in `channel` (None: they may)."""
        names = self.channel_names()
        if channel not in self.channels:
            return (
                f"`public` works only inside the bug channel ({names}): elsewhere people who may not"
                " read these reports would see them."
            )
        audience = self.audience(channel)
        for record in records:
            if getattr(record, "source_system", None) == "slack" and not self.may_post(audience, record):
                return "`public` would show a report from another bug channel here, whose members differ."
        where = self.channel_names((channel,))
        if audience.ext_shared and audience.strangers:
            return f"{where} is shared with another organisation, whose people may not read these reports."
        if audience.strangers:
            return f"{where} has guests or people from another organisation who may not read every report."
        return None

    def narrower_than_workspace(self, channel: str) -> bool:
        """Is `channel` read by fewer people than the workspace's full members (private, or shared with
        another organisation)? Slack failing: yes (ask rather than copy silently)."""
        try:
            info = self.info(channel)
        except (SlackApiError, SlackClientError) as exc:
            log.info("whether %s is private is not known: %s", channel, exc)
            return True
        return bool(info.get("is_private") or info.get("is_ext_shared"))

    def refusal(self) -> str:
        """The one line for someone who reads no bug channel."""
        whose = "its" if len(self.channels) == 1 else "their"
        return f"You need to be in {self.channel_names()} to see {whose} reports."

    def channel_names(self, channels: Iterable[str] | None = None) -> str:
        """`#bugs`, or `#bugs or #security-bugs` (the channel id when Slack will not say its name)."""
        return " or ".join(f"#{self.name(channel)}" for channel in (channels or self.channels))

    # -- Slack, cached -------------------------------------------------------------------------------
    def members(self, channel: str) -> set[str]:
        with self._lock:
            cached = self._members.get(channel)
            if cached is not None and self.clock() - cached[1] <= CACHE_SECONDS:
                return cached[0]
            seen = self._reading.setdefault(channel, [])  # joins / leaves arriving while we read
        members: set[str] = set()
        cursor = None
        try:
            while True:
                page = self.client.conversations_members(channel=channel, limit=MEMBERS_PAGE, cursor=cursor)
                members.update(page.get("members") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        finally:
            with self._lock:
                if self._reading.get(channel) is seen:
                    del self._reading[channel]
        with self._lock:
            for joined, user in seen:  # newer than the page that held (or missed) that user
                if joined:
                    members.add(user)
                else:
                    members.discard(user)
            self._members[channel] = (members, self.clock())
        return members

    def member_joined(self, channel: str, user: str) -> None:
        self._member_event(channel, user, joined=True)

    def member_left(self, channel: str, user: str) -> None:
        self._member_event(channel, user, joined=False)

    def _member_event(self, channel: str, user: str, joined: bool) -> None:
        with self._lock:
            if channel in self._reading:
                self._reading[channel].append((joined, user))
            if channel in self._members:  # a new set: a reader may be iterating the old one
                members, at = self._members[channel]
                self._members[channel] = (members | {user} if joined else members - {user}, at)

    def info(self, channel: str) -> dict[str, Any]:
        """`conversations.info`'s channel (name, is_private, is_ext_shared), cached CACHE_SECONDS; errors
        propagate (a channel the bot cannot see is no place to show anything)."""
        with self._lock:
            cached = self._infos.get(channel)
            if cached is not None and self.clock() - cached[1] <= CACHE_SECONDS:
                return cached[0]
        info = dict(self.client.conversations_info(channel=channel).get("channel") or {})
        with self._lock:
            self._infos[channel] = (info, self.clock())
        return info

    def channel_changed(self, channel: str) -> None:
        """A channel was shared, unshared, renamed or made private: read its info again when next asked."""
        with self._lock:
            self._infos.pop(channel, None)

    def name(self, channel: str) -> str:
        try:
            return str(self.info(channel).get("name") or channel)
        except (SlackApiError, SlackClientError) as exc:
            log.info("the name of %s is not known: %s", channel, exc)
            return channel

    @contextmanager
    def _slack(self, what: str) -> Iterator[None]:
        try:
            yield
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "error")
            missing = error in ("channel_not_found", "not_in_channel")
            hint = " (is the bot a member of every bug channel?)" if missing else ""
            raise ReadersUnavailable(
                f"I cannot tell {what} right now: Slack answered `{error}`{hint}. {NOTHING_SHOWN}"
            ) from exc
        except SlackClientError as exc:
            raise ReadersUnavailable(
                f"I cannot tell {what} right now: Slack could not be reached. {NOTHING_SHOWN}"
            ) from exc
