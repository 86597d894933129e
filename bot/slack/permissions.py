"""Who may link and unlink: BUG_LINKERS (user ids U…/W… and user group ids S…); empty means everyone.

`NamedUsers` reads such a list (BUG_LINKERS, BUG_READERS: bot/slack/readers.py uses it too)."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 300.0


class NamedUsers:
    """Callable `named(user_id) -> bool`: the user is listed, or in a listed user group (members from
    usergroups.users.list, cached GROUP_CACHE_SECONDS). Slack errors propagate (SlackApiError)."""

    def __init__(self, client: WebClient, names: tuple[str, ...]) -> None:
        self.client = client
        self.users = {name for name in names if not name.startswith("S")}
        self.groups = tuple(name for name in names if name.startswith("S"))
        self._members: set[str] = set()
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    @property
    def empty(self) -> bool:
        return not self.users and not self.groups

    def __call__(self, user_id: str) -> bool:
        if user_id in self.users:
            return True
        return bool(self.groups) and user_id in self._group_members()

    def _group_members(self) -> set[str]:
        with self._lock:
            if time.monotonic() - self._fetched_at > GROUP_CACHE_SECONDS:
                members: set[str] = set()
                for group in self.groups:
                    members.update(self.client.usergroups_users_list(usergroup=group).get("users") or [])
                self._members, self._fetched_at = members, time.monotonic()
            return self._members


class LinkerCheck(NamedUsers):
    """Callable `check(user_id) -> bool`: BUG_LINKERS names the user (or BUG_LINKERS is empty)."""

    def __init__(self, client: WebClient, linkers: tuple[str, ...]) -> None:
        super().__init__(client, linkers)

    @property
    def everyone(self) -> bool:
        return self.empty

    def __call__(self, user_id: str) -> bool:
        return self.everyone or super().__call__(user_id)
