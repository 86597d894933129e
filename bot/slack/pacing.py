"""Each Web API method paced by its own Slack rate-limit tier, for the whole process.

Slack limits each method separately: `chat.postMessage` to about one message a second per channel, Tier 3
methods (`chat.update`, `views.publish`, `conversations.history` / `replies`) to about 50 calls a minute for
the app, Tier 4 to about 100. Every tier allows short bursts. One `MethodPacing` is built per process
(bot/bootstrap.py) and shared by every thread that calls Slack (Bolt's listener workers, the status board,
the sweep), so that together they stay under each tier. A 429 answer's `Retry-After` holds back that method
only (every channel of it); the other methods go on. docs/slack.md has the table.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    per_minute: float  # sustained rate
    burst: int  # calls allowed at once after a quiet spell
    per_channel: bool = False  # paced per channel (chat.postMessage) rather than for the whole app


POSTING = Tier(per_minute=60, burst=3, per_channel=True)  # ~1 message a second per channel
TIER_2 = Tier(per_minute=20, burst=3)
TIER_3 = Tier(per_minute=50, burst=10)
TIER_4 = Tier(per_minute=100, burst=20)

TIERS: dict[str, Tier] = {
    "chat.postMessage": POSTING,
    "chat.update": TIER_3,
    "views.publish": TIER_4,
    "conversations.history": TIER_3,
    "conversations.replies": TIER_3,
    "conversations.info": TIER_3,
    "conversations.members": TIER_4,
    "users.info": TIER_4,
    "chat.postEphemeral": TIER_4,
    "views.open": TIER_4,
    "views.update": TIER_4,
    "usergroups.users.list": TIER_2,
    "users.list": TIER_2,
}


class _Bucket:
    """A token bucket: `burst` tokens, refilled at the tier's rate; a call takes one or waits for it."""

    def __init__(self, tier: Tier, now: float) -> None:
        self.rate = tier.per_minute / 60.0
        self.capacity = float(tier.burst)
        self.tokens, self.updated = self.capacity, now

    def take(self, now: float) -> float:
        """Take a token (possibly one not refilled yet); the seconds to wait before the call may go."""
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = max(self.updated, now)
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class MethodPacing:
    def __init__(
        self,
        tiers: dict[str, Tier] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.tiers = TIERS if tiers is None else tiers
        self.clock, self.sleep = clock, sleep
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._held_until: dict[str, float] = {}  # method -> when its 429's Retry-After ends
        self._lock = threading.Lock()

    def delay(self, method: str, channel: str | None = None) -> float:
        """Reserve a call of `method` (in `channel`, for a per-channel tier); the seconds to wait first."""
        tier = self.tiers.get(method)
        with self._lock:
            now = self.clock()
            held = max(0.0, self._held_until.get(method, now) - now)
            if tier is None:
                return held
            key = (method, (channel or "") if tier.per_channel else "")
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(tier, now)
            return max(held, bucket.take(now))

    def wait(self, method: str, channel: str | None = None) -> None:
        """Block until a call of `method` may go."""
        seconds = self.delay(method, channel)
        if seconds > 0:
            self.sleep(seconds)

    def hold(self, method: str, seconds: float) -> None:
        """Slack answered 429 with `Retry-After: seconds`: no call of `method` before then (others go on)."""
        with self._lock:
            until = self.clock() + seconds
            self._held_until[method] = max(self._held_until.get(method, 0.0), until)

    def held(self, method: str) -> float:
        """Seconds left of `method`'s hold (0 when none)."""
        with self._lock:
            return max(0.0, self._held_until.get(method, 0.0) - self.clock())
