"""Claims: an action that must happen once across every bot instance (a thread answer, a status-card
update, a sweep's answer) is claimed in the store with one conditional write before it is done.

Several bot processes may share one store and one Slack app (Slack spreads events over up to 10 Socket Mode
connections, and every instance sweeps the channel): whichever claims `name` first does the action; the
others skip it. A claim is kept `ttl_seconds` (default a week), long past any redelivery or sweep overlap.
When the action itself fails (Slack refused the post), `release` gives the claim back so a later attempt
may try again.

    claims = Claims(store)
    if claims.once(f"answer:{channel}:{ts}:message"):
        try:
            client.chat_postMessage(...)
        except SlackApiError:
            claims.release(...)
            raise

The claim is a store primitive (`BugStore.claim`, beside the leases: one conditional PutItem on DynamoDB,
one INSERT on SQLite).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from typing import TypeVar

from bot.sync.lease import take_lease
from storage.store import BugStore

log = logging.getLogger(__name__)

CLAIM_SECONDS = 7 * 24 * 3600
PREFIX = "claim:"

T = TypeVar("T")


def instance_id() -> str:
    """This process, unique across restarts and hosts: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Claims:
    def __init__(self, store: BugStore, owner: str | None = None, ttl_seconds: float = CLAIM_SECONDS) -> None:
        self.store = store
        self.owner = owner or instance_id()
        self.ttl_seconds = ttl_seconds

    def once(self, name: str) -> bool:
        """True for exactly one caller of `name` across every instance (until the claim expires)."""
        return self.store.claim(PREFIX + name, self.owner, self.ttl_seconds)

    def take_from_the_dead(self, name: str) -> bool:
        """Take over `name` when its holder ran on this host and its process is gone (kill -9, a crash), as a
        sync lease is (bot/sync/lease.py), instead of waiting for the claim to expire. Only for claims that
        guard work in flight whose outcome the next holder checks (a Zendesk note: its ticket's comments),
        never for a claim that records a thing was done."""
        taken, _holder = take_lease(self.store, PREFIX + name, self.owner, self.ttl_seconds)
        return taken

    def release(self, name: str) -> None:
        """Give back a claim of ours whose action failed, so that a later attempt may do it."""
        self.store.release_lease(PREFIX + name, self.owner)

    def run_once(self, name: str, action: Callable[[], T]) -> T | None:
        """Claim `name`, then run `action`; None when another caller claimed it. A failing action releases
        the claim and re-raises."""
        if not self.once(name):
            log.debug("claim %s held by another instance: skipped", name)
            return None
        try:
            return action()
        except BaseException:
            self.release(name)
            raise
