"""An upstream's rate limit for the fakes: at most `limit` requests in any `window` seconds (a sliding window,
as Zendesk and Shortcut count a minute). A request over it is refused with the seconds until a slot frees,
which the fake sends as Retry-After. Benchmarks scale the window down (a minute becomes a second), so the
Retry-After they get is fractional; the real services send whole seconds."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateWindow:
    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.admitted: deque[float] = deque()
        self.refused = 0
        self._lock = threading.Lock()

    def admit(self) -> float:
        """0 when the request is served (and counted), else the seconds until one would be."""
        with self._lock:
            now = self.clock()
            while self.admitted and self.admitted[0] <= now - self.window:
                self.admitted.popleft()
            if len(self.admitted) < self.limit:
                self.admitted.append(now)
                return 0.0
            self.refused += 1
            return max(0.001, self.admitted[0] + self.window - now)
