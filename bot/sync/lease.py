"""A store lease held for the length of a pull, renewed from a background thread.

The lease is a conditional write with an expiry (`store.acquire_lease`): two bot processes, or the bot and
a manual `bugtracker sync`, never pull one source at once. Its owner is `<host>:<pid>:<random>`, so a
runner that finds it held can say who holds it, and a holder on this host whose process is gone (kill -9,
a crash) is taken over at once instead of waiting for the expiry; a holder elsewhere simply expires.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bot.worker import Worker
from storage.errors import BugTrackerError
from storage.primitives import Lease
from storage.store import BugStore

log = logging.getLogger(__name__)

LEASE_TTL_SECONDS = 120.0


class LeaseLost(BugTrackerError):
    pass


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_name(owner: str) -> str:
    """`host:pid` of an owner written by default_owner (any other owner as it is)."""
    parts = owner.rsplit(":", 2)
    return f"{parts[0]}:{parts[1]}" if len(parts) == 3 else owner


def frees_at(lease: Lease) -> str:
    """When the lease expires unless its holder renews it: `04:31:02 UTC`."""
    return datetime.fromtimestamp(lease.expires_at, UTC).strftime("%H:%M:%S UTC")


def _process_gone(pid: int) -> bool:
    """True when no live process has this pid here (a zombie, killed but not yet reaped, is gone too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def dead_here(owner: str) -> bool:
    """True when the owner ran on this host and its process is gone: its lease can be taken at once."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    return pid != os.getpid() and _process_gone(pid)


def take_lease(store: BugStore, name: str, owner: str, ttl: float) -> tuple[bool, Lease | None]:
    """(True, None) when owner now holds the lease, else (False, the holder's lease).

    A holder on this host whose process is gone is replaced at once (conditional on it still being that
    holder, so two runners racing for a dead one's lease get it once)."""
    for _ in range(3):
        if store.acquire_lease(name, owner, ttl):
            return True, None
        held = store.lease_holder(name)
        if held is None:
            continue  # it expired or was released between the two reads: try again
        if dead_here(held.owner):
            if store.acquire_lease(name, owner, ttl, take_over=held.owner):
                log.warning(
                    "took over the lease %s of %s: that process is gone", name, holder_name(held.owner)
                )
                return True, None
            continue
        return False, held
    return False, store.lease_holder(name)


class HeldLease(Worker):
    """Renews the lease every ttl/3 seconds until stopped; `check()` raises once it could not be kept."""

    def __init__(self, store: BugStore, name: str, owner: str, ttl: float = LEASE_TTL_SECONDS) -> None:
        super().__init__(f"lease {name}", every=ttl / 3, wait_first=True)  # it was just taken
        self.store, self.lease, self.owner, self.ttl = store, name, owner, ttl
        self._renewed = time.monotonic()
        self._lost = False

    def step(self) -> None:
        try:
            if self.store.acquire_lease(self.lease, self.owner, self.ttl):
                self._renewed = time.monotonic()
                return
            self._lost = True  # another runner took it over after it expired
        except BugTrackerError as exc:
            log.warning("could not renew the lease %s: %s", self.lease, exc)
        if self._lost or time.monotonic() - self._renewed > self.ttl:
            self._lost = True
            self.end()

    def check(self) -> None:
        if self._lost:
            raise LeaseLost(
                f"lost the lease {self.lease} (renewal failed); stopping so two runs never overlap"
            )

    def stop(self, timeout: float = 5.0) -> bool:
        stopped = super().stop(timeout)
        try:
            self.store.release_lease(self.lease, self.owner)
        except BugTrackerError as exc:
            log.warning("could not release the lease %s (it will expire): %s", self.lease, exc)
        return stopped
