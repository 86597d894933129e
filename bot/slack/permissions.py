"""Who may link and unlink: BUG_LINKERS (user ids U…/W… and user group ids S…); empty means everyone."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 300.0


class LinkerCheck:
    """Callable `check(user_id) -> bool`; group members come from usergroups.users.list, cached."""

    def __init__(self, client: Any, linkers: tuple[str, ...]) -> None:
        self.client = client
        self.users = {linker for linker in linkers if not linker.startswith("S")}
        self.groups = tuple(linker for linker in linkers if linker.startswith("S"))
        self._members: set[str] = set()
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    @property
    def everyone(self) -> bool:
        return not self.users and not self.groups

    def __call__(self, user_id: str) -> bool:
        if self.everyone or user_id in self.users:
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
