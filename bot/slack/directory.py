"""Who in the workspace is a full member, a guest or an outsider: a map read in the background from
`users.list` (paged, Tier 2) and kept current by `user_change` / `team_join`, so that a decision about a
channel of any size costs no Slack call per member (bot/slack/readers.py asks it).

An outsider is anyone from another organisation: a `team_id` other than this workspace's (auth.test), or
`is_stranger` (Slack Connect, seen from here). A user the map does not hold once it is loaded is one too
(people of another organisation are not listed by `users.list`): fail closed. Only a question about one
person asks Slack (`users.info`, once, then remembered) when the map does not know them yet.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.worker import Worker

log = logging.getLogger(__name__)

Kind = Literal["full", "guest", "outsider"]
USERS_PAGE = 200  # users.list page size (Slack advises at most 200)
REFRESH_SECONDS = 6 * 3600.0  # a full re-read now and then; events keep it current in between
RETRY_SECONDS = 30.0  # until the first read succeeds


def kind_of(user: Mapping[str, Any], team_id: str | None) -> Kind:
    """A `users.list` / `users.info` / `user_change` user object, classified."""
    team = user.get("team_id")
    if user.get("is_stranger") or (team_id is not None and team is not None and team != team_id):
        return "outsider"
    if user.get("is_restricted") or user.get("is_ultra_restricted"):
        return "guest"
    return "full"


class Directory:
    """The guest / outsider map. `refresh()` reads it whole (the background worker's step); `learn()` takes a
    user from an event; `kind()` answers from memory; `lookup()` asks Slack about one unknown person."""

    def __init__(self, client: WebClient, team_id: str | None, page_size: int = USERS_PAGE) -> None:
        self.client = client
        self.team_id = team_id
        self.page_size = page_size
        self._kinds: dict[str, Kind] = {}
        self._during: dict[str, Kind] | None = None  # learned while a refresh reads its pages
        self._ready = threading.Event()
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        """The whole workspace has been read once."""
        return self._ready.is_set()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def refresh(self) -> int:
        """Read every user (`users.list`, all pages) and replace the map; the number of users read. Events
        that arrive during the read are kept (they are newer than the page that held that user)."""
        read: dict[str, Kind] = {}
        cursor = None
        with self._lock:
            self._during = {}
        try:
            while True:
                page = self.client.users_list(limit=self.page_size, cursor=cursor)
                for user in page.get("members") or []:
                    if user.get("id") and not user.get("deleted"):
                        read[str(user["id"])] = kind_of(user, self.team_id)
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        finally:
            with self._lock:
                read.update(self._during or {})
                self._during = None
        with self._lock:
            self._kinds = read
        self._ready.set()
        log.info("directory: %d users read", len(read))
        return len(read)

    def learn(self, user: Mapping[str, Any]) -> None:
        """A `user_change` / `team_join` event's user: the map changes at once."""
        user_id = str(user.get("id") or "")
        if not user_id:
            return
        kind = kind_of(user, self.team_id)
        with self._lock:
            if user.get("deleted"):
                self._kinds.pop(user_id, None)
            else:
                self._kinds[user_id] = kind
            if self._during is not None and not user.get("deleted"):
                self._during[user_id] = kind

    def kind(self, user_id: str) -> Kind | None:
        """From memory only: None when the map does not hold the user (not loaded yet, or not listed)."""
        with self._lock:
            return self._kinds.get(user_id)

    def lookup(self, user_id: str) -> Kind:
        """One person: from memory, else `users.info` once (remembered). Slack errors propagate."""
        known = self.kind(user_id)
        if known is not None:
            return known
        try:
            profile = self.client.users_info(user=user_id).get("user") or {}
        except SlackApiError as exc:
            if exc.response.get("error") == "user_not_found":
                return "outsider"
            raise
        kind = kind_of(profile, self.team_id)
        with self._lock:
            self._kinds[user_id] = kind
        return kind

    def unknown_among(self, users: Iterable[str]) -> set[str]:
        """The users the map does not hold (yet)."""
        with self._lock:
            return {user for user in users if user not in self._kinds}

    def outsiders_among(self, users: Iterable[str]) -> set[str]:
        """Guests and outsiders among `users`, from memory: a user the map does not hold counts as one."""
        with self._lock:
            return {user for user in users if self._kinds.get(user, "outsider") != "full"}


class DirectoryReader(Worker):
    """Reads the map in the background: at once, again every REFRESH_SECONDS, and every RETRY_SECONDS while
    a read has not succeeded yet (a failed read is logged; the map stays as it was)."""

    def __init__(self, directory: Directory) -> None:
        super().__init__("directory")
        self.directory = directory

    def interval(self) -> float:
        return REFRESH_SECONDS if self.directory.ready else RETRY_SECONDS

    def step(self) -> None:
        try:
            self.directory.refresh()
        except SlackApiError as exc:
            log.warning(
                "directory: users.list failed (%s); kept the map as it was", exc.response.get("error")
            )
        except (SlackClientError, OSError) as exc:  # OSError: urllib's URLError, a refused connection
            log.warning(
                "directory: Slack could not be reached (%s); kept the map as it was", type(exc).__name__
            )
