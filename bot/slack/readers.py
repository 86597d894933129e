"""Who may read a bug channel's reports: the one rule every Slack surface asks (`/bug`, App Home, suggestions,
status cards, the link modal). bot/slack/permissions.py says who may link.

A Slack report's readers are the members of the channel it was posted in (`conversations.members`, paged,
cached at most CACHE_SECONDS and kept current by `member_joined_channel` / `member_left_channel`), plus the
people and user groups named in BUG_READERS or BUG_LINKERS (they read every bug channel). A guest
(`users.info`: `is_restricted` / `is_ultra_restricted`) reads only when one of those lists names them.
Zendesk and Shortcut records are shown to whoever reads at least one bug channel. When Slack cannot tell us
who is in a channel, nothing is shown (ReadersUnavailable, one line for the person): fail closed.
The console is local and is not asked (EVERYTHING).
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

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.permissions import NamedUsers
from storage.errors import BugTrackerError
from storage.values import TicketView

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0  # members, guest flags and channel names are at most this old
NOTHING_SHOWN = "Nothing is shown; try again shortly."
MEMBERS_PAGE = 200  # conversations.members page size (Slack advises at most 200)
# A Slack report's permalink (built by slack_message.py, never outside text): index rows carry the url but
# not the `channel` attribute, so the channel of a list row is read from it.
_PERMALINK_CHANNEL = re.compile(r"/archives/([CG][A-Z0-9]{2,40})/p[0-9]")


class ReadersUnavailable(BugTrackerError):
    """Slack did not say who is in a channel (or who is a guest): nothing is shown."""


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
            return bool(self.channels)
        return channel_of(record) in self.channels

    def view(self, view: TicketView) -> tuple[TicketView, int]:
        """The view with only what this person may read, and how many records were left out."""
        shown = tuple(record for record in view.records if self.may_read(record))
        return replace(view, records=shown), len(view.records) - len(shown)


EVERYTHING = ReaderScope(frozenset(), everything=True)


class Readers:
    def __init__(
        self,
        client: Any,
        channels: tuple[str, ...],
        readers: tuple[str, ...] = (),
        linkers: tuple[str, ...] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.channels = tuple(channels)
        self.named = NamedUsers(client, tuple(dict.fromkeys((*readers, *linkers))))  # linkers are readers
        self.clock = clock
        self._members: dict[str, tuple[set[str], float]] = {}
        self._guests: dict[str, tuple[bool, float]] = {}
        self._names: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    # -- the questions surfaces ask ------------------------------------------------------------------
    def scope(self, user: str) -> ReaderScope:
        """The bug channels whose reports `user` may read (raises ReadersUnavailable)."""
        with self._slack("who may read the bug reports"):
            if self.named(user):
                return ReaderScope(frozenset(self.channels))
            channels = frozenset(c for c in self.channels if user in self.members(c))
            if channels and self.is_guest(user):
                return ReaderScope(frozenset())
            return ReaderScope(channels)

    def same_readers(self, channel: str, other: str | None) -> bool:
        """Whoever may read what is posted in `channel` may read `other`'s reports, and the reverse: the same
        channel, or the same members (BUG_READERS is the same for both). Unknown channel: no."""
        if other is None:
            return False
        if channel == other:
            return True
        with self._slack("who is in the bug channels"):
            return self.members(channel) == self.members(other)

    def fits_channel(self, channel: str, record: Any, strict: bool = False) -> bool:
        """May `record` (a record, a suggestion) be shown in `channel` (a thread there, a status card)?
        Zendesk and Shortcut: in any bug channel; a Slack report: only where its readers are the same.
        Slack failing: no (a suggestion is left out), or with `strict` ReadersUnavailable (a status card
        waits for the next flush rather than showing less and changing back)."""
        if getattr(record, "source_system", None) != "slack":
            return True
        try:
            return self.same_readers(channel, channel_of(record))
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
        with self._slack("who is in the bug channel"):
            for record in records:
                if record.source_system == "slack" and not self.same_readers(channel, channel_of(record)):
                    return "`public` would show a report from another bug channel here, whose members differ."
            members = self.members(channel)
            guests = [member for member in members if not self.named(member) and self.is_guest(member)]
        if guests:
            return f"{self.channel_names((channel,))} has guests who may not read every report."
        return None

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
        members: set[str] = set()
        cursor = None
        while True:
            page = self.client.conversations_members(channel=channel, limit=MEMBERS_PAGE, cursor=cursor)
            members.update(page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        with self._lock:
            self._members[channel] = (members, self.clock())
        return members

    def member_joined(self, channel: str, user: str) -> None:
        with self._lock:
            if channel in self._members:  # a new set: a reader may be iterating the old one
                members, at = self._members[channel]
                self._members[channel] = (members | {user}, at)

    def member_left(self, channel: str, user: str) -> None:
        with self._lock:
            if channel in self._members:
                members, at = self._members[channel]
                self._members[channel] = (members - {user}, at)

    def is_guest(self, user: str) -> bool:
        with self._lock:
            cached = self._guests.get(user)
            if cached is not None and self.clock() - cached[1] <= CACHE_SECONDS:
                return cached[0]
        profile = self.client.users_info(user=user).get("user") or {}
        guest = bool(profile.get("is_restricted") or profile.get("is_ultra_restricted"))
        with self._lock:
            self._guests[user] = (guest, self.clock())
        return guest

    def name(self, channel: str) -> str:
        with self._lock:
            cached = self._names.get(channel)
            if cached is not None and self.clock() - cached[1] <= CACHE_SECONDS:
                return cached[0]
        try:
            info = self.client.conversations_info(channel=channel).get("channel") or {}
            name = str(info.get("name") or channel)
        except (SlackApiError, SlackClientError) as exc:
            log.info("the name of %s is not known: %s", channel, exc)
            return channel
        with self._lock:
            self._names[channel] = (name, self.clock())
        return name

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
