"""One run's budget of time spent waiting on an upstream's rate limit, and the requests transport that spends
it on every 429 of a session (Zendesk: the export, users/show_many, custom_statuses alike).

The transport waits the 429's Retry-After (fractional seconds too; absent: 2, 4, 8… s up to a minute) and
sends again, counting each attempt and each wait in the pull's PullStats; once the next wait would pass the
budget it raises RateLimited, which the runner treats as a backfill to continue, not a failure, when the run
made progress (bot/sync/runner.py). zenpy never sees a 429 (its own wait sleeps whole seconds, outside any
budget but the export's).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from adapters.pull import PullStats, RateLimited

log = logging.getLogger(__name__)

MAX_FALLBACK_WAIT = 60.0


class RateBudget:
    def __init__(
        self,
        seconds: float,
        upstream: str,
        resume_hint: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.seconds, self.upstream, self.resume_hint, self.sleep = seconds, upstream, resume_hint, sleep
        self.stats = PullStats()

    def reset(self) -> PullStats:
        """A fresh budget and fresh counters for a new run."""
        self.stats = PullStats()
        return self.stats

    def wait(self, seconds: float, why: str) -> None:
        if self.stats.rate_limit_wait + seconds > self.seconds:
            raise RateLimited(
                f"{self.upstream} rate limit: more than {self.seconds:.0f}s spent waiting ({why});"
                f" stopping, the next run resumes from {self.resume_hint}"
            )
        self.stats.rate_limit_wait += seconds
        self.sleep(seconds)


class BudgetedAdapter(HTTPAdapter):
    """An HTTPAdapter (with the session's urllib3 retries for 5xx) that waits out 429s within a RateBudget."""

    def __init__(self, budget: RateBudget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.budget = budget

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        attempt = 0
        while True:
            response = super().send(request, *args, **kwargs)
            self.budget.stats.requests += 1
            if response.status_code != 429:
                return response
            attempt += 1
            seconds = retry_after(response, attempt)
            _ = response.content  # read the small body: the connection goes back to the pool for the retry
            path = (request.path_url or "").split("?", 1)[0]
            log.debug("%s answered 429 to %s: waiting %.1fs", self.budget.upstream, path, seconds)
            self.budget.wait(seconds, f"HTTP 429 to {path}")


def spend_on_429s(session: requests.Session, budget: RateBudget) -> None:
    """Replace the session's adapters by BudgetedAdapters keeping their retry settings."""
    for prefix, adapter in list(session.adapters.items()):
        retries = getattr(adapter, "max_retries", 0)
        session.mount(prefix, BudgetedAdapter(budget, max_retries=retries))


def retry_after(response: requests.Response, attempt: int) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return min(MAX_FALLBACK_WAIT, 2.0**attempt)
