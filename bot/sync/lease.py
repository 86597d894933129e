"""A store lease held for the length of a pull, renewed from a background thread.

The lease is a conditional write with an expiry (`store.acquire_lease`): two bot processes, or the bot and
a manual `bugtracker sync`, never pull one source at once, and a crashed holder's lease simply expires.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from storage.errors import BugTrackerError
from storage.store import BugStore

log = logging.getLogger(__name__)

LEASE_TTL_SECONDS = 120.0


class LeaseLost(BugTrackerError):
    pass


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class HeldLease:
    """Renews the lease every ttl/3 seconds until stopped; `check()` raises once it could not be kept."""

    def __init__(self, store: BugStore, name: str, owner: str, ttl: float = LEASE_TTL_SECONDS) -> None:
        self.store, self.name, self.owner, self.ttl = store, name, owner, ttl
        self._stop = threading.Event()
        self._renewed = time.monotonic()
        self._lost = False
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease {name}", daemon=True)

    def start(self) -> HeldLease:
        self._thread.start()
        return self

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                if self.store.acquire_lease(self.name, self.owner, self.ttl):
                    self._renewed = time.monotonic()
                    continue
                self._lost = True  # another runner took it over after it expired
            except BugTrackerError as exc:
                log.warning("could not renew the lease %s: %s", self.name, exc)
            if self._lost or time.monotonic() - self._renewed > self.ttl:
                self._lost = True
                return

    def check(self) -> None:
        if self._lost:
            raise LeaseLost(
                f"lost the lease {self.name} (renewal failed); stopping so two runs never overlap"
            )

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self.store.release_lease(self.name, self.owner)
        except BugTrackerError as exc:
            log.warning("could not release the lease %s (it will expire): %s", self.name, exc)
