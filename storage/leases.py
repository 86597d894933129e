"""Leases and claims, written once above the port: who runs the sync (a lease, renewed while it lives) and
who does a one-time action such as posting one answer (a claim, taken once)."""

from __future__ import annotations

from storage import rules
from storage.core import MAX_TRIES, StoreCore
from storage.errors import ConditionFailed
from storage.primitives import Lease, PutLease, RemoveLease


class Leases(StoreCore):
    def acquire_lease(
        self, name: str, owner: str, ttl_seconds: float, *, take_over: str | None = None
    ) -> bool:
        """Take or renew the lease `name` for owner; False when another owner holds an unexpired one.
        `take_over`: a holder known to be dead (its process is gone) whose lease may be taken at once."""
        with self.transaction():
            for _ in range(MAX_TRIES):
                now = self.clock()
                held = self.port.read_lease(name)
                if not rules.lease_takeable(held, owner, now, take_over):
                    return False
                try:
                    self._commit([PutLease(Lease(name, owner, now + ttl_seconds), held)])
                except ConditionFailed:
                    continue  # taken, renewed or released meanwhile: look again
                return True
        return False

    def lease_holder(self, name: str) -> Lease | None:
        """Who holds the lease `name` and until when (None: nobody, or an expired lease)."""
        held = self.port.read_lease(name)
        return held if held is not None and held.expires_at > self.clock() else None

    def claim(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Claim the one-time action `name` (e.g. posting one answer) for owner: True for exactly one caller
        until the claim expires, whoever asks, the same owner included. One conditional write when the
        name is free (the usual case); a claim past its expiry is taken over."""
        now = self.clock()
        claim = Lease(name, owner, now + ttl_seconds)
        with self.transaction():
            try:
                self._commit([PutLease(claim, None)])
                return True
            except ConditionFailed:
                pass
            for _ in range(MAX_TRIES):
                held = self.port.read_lease(name)
                if held is not None and held.expires_at > now:
                    return False
                try:
                    self._commit([PutLease(claim, held)])
                    return True
                except ConditionFailed:
                    continue
        return False

    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease up if owner holds it."""
        with self.transaction():
            held = self.port.read_lease(name)
            if held is None or held.owner != owner:
                return
            try:
                self._commit([RemoveLease(held)])
            except ConditionFailed:
                pass  # someone else took it meanwhile (ours had expired): nothing of ours to give up
