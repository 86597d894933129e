"""The Shortcut REST client: one Session with the Shortcut-Token header, urllib3 retries for 5xx, a
self-throttle under the API's 200 requests/minute, and 429 handling within a bounded wait budget."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import requests

from adapters.create import CreateRefused, CreateUnknown
from adapters.http_session import retrying_session
from adapters.pull import PullStats, RateLimited, UpstreamError

log = logging.getLogger(__name__)

# Shortcut allows 200/min: pace at it, less a 2.5% headroom for the skew between our clock and its window
# (bench/sync_rate_limit.py measures it: no 429 at this pace) and a stray request from another token user
REQUESTS_PER_MINUTE = 195
DEFAULT_RATELIMIT_BUDGET = 300  # seconds a run may spend waiting on rate limits before it stops
FALLBACK_RETRY_AFTER = 30.0  # when a 429 carries no Retry-After (the docs do not promise one)
WRITE_HINT = (
    "the token's member cannot create stories: SHORTCUT_API_TOKEN must belong to a member with the"
    " Member, Admin or Owner role (an Observer's token can only read)"
)
MESSAGE_LIMIT = 160  # characters of Shortcut's own error message repeated to a person


class SearchCapReached(UpstreamError):
    """A search answered 400 `maximum-results-exceeded`: the query matches more than it will serve."""


class ShortcutHttp:
    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        requests_per_minute: int = REQUESTS_PER_MINUTE,
        window_seconds: float = 60.0,
        ratelimit_budget: float = DEFAULT_RATELIMIT_BUDGET,
        backoff_factor: float = 1.0,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.session = retrying_session(backoff_factor=backoff_factor)
        self.session.headers.update({"Shortcut-Token": token, "Accept": "application/json"})
        self.requests_per_minute = requests_per_minute
        self.window = window_seconds  # the limit's minute (benchmarks scale it down)
        self.ratelimit_budget = ratelimit_budget
        self.timeout = timeout
        self.sleep, self.clock = sleep, clock
        self._sent: deque[float] = deque()  # send times within the last minute
        self.stats = PullStats()

    def reset_stats(self) -> None:
        self.stats = PullStats()

    def _wait(self, seconds: float, why: str) -> None:
        if self.stats.rate_limit_wait + seconds > self.ratelimit_budget:
            raise RateLimited(
                f"Shortcut rate limit: more than {self.ratelimit_budget:.0f}s spent waiting ({why});"
                " stopping, the next run resumes from the saved watermark"
            )
        self.stats.rate_limit_wait += seconds
        self.sleep(seconds)

    def _throttle(self) -> None:
        now = self.clock()
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
        if len(self._sent) >= self.requests_per_minute:
            self._wait(self._sent[0] + self.window - now, "self-throttle")
        self._sent.append(self.clock())

    def get_json(self, url: str, params: dict[str, Any] | None, *, missing_ok: bool = False) -> Any:
        """GET one resource; 429s are waited out, other failures raise UpstreamError (no token, no query).
        With missing_ok, a 404 answers None (a deleted story)."""
        return self._request("GET", url, params=params, missing_ok=missing_ok)

    def post_json(self, url: str, body: dict[str, Any]) -> Any:
        """POST a JSON body (POST /stories/search reads and writes nothing); as get_json otherwise."""
        return self._request("POST", url, json=body)

    def _request(self, method: str, url: str, *, missing_ok: bool = False, **kwargs: Any) -> Any:
        path = url.split("?", 1)[0].removeprefix(self.api_url)
        attempt = 0
        while True:
            self._throttle()
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as exc:
                raise UpstreamError(f"Shortcut cannot be reached ({path}): {type(exc).__name__}") from exc
            self.stats.requests += 1
            if response.status_code == 429:
                attempt += 1
                self._wait(_retry_after(response, attempt), "HTTP 429")
                continue
            if response.status_code in (401, 403):
                raise UpstreamError(
                    f"Shortcut refused the token (HTTP {response.status_code}); check SHORTCUT_API_TOKEN"
                )
            if response.status_code == 404 and missing_ok:
                return None
            if response.status_code == 400 and _error_name(response) == "maximum-results-exceeded":
                raise SearchCapReached(f"Shortcut serves at most 1000 results of a search ({path})")
            if response.status_code >= 400:
                raise UpstreamError(f"Shortcut answered HTTP {response.status_code} to {path}")
            try:
                return response.json()
            except ValueError:
                raise UpstreamError(f"Shortcut answered {path} with something that is not JSON") from None

    def create_json(self, url: str, body: dict[str, Any]) -> Any:
        """POST once (never retried here: a second POST could make a second story). A refusal raises
        CreateRefused; no answer or a 5xx raises CreateUnknown (the story may exist: look it up)."""
        path = url.removeprefix(self.api_url)
        self._throttle()
        try:
            response = self.session.post(url, json=body, timeout=self.timeout)
        except requests.RequestException as exc:  # sent or not, we cannot tell: look it up
            raise CreateUnknown(f"Shortcut did not answer ({path}): {type(exc).__name__}") from exc
        self.stats.requests += 1
        status = response.status_code
        if status == 401:
            raise CreateRefused("Shortcut refused the token (HTTP 401); check SHORTCUT_API_TOKEN")
        if status == 403:
            raise CreateRefused(f"Shortcut answered HTTP 403: {WRITE_HINT}")
        if status == 429:
            wait = _retry_after(response, 1)
            raise CreateRefused(
                f"Shortcut's rate limit (HTTP 429): nothing was created; try again in {wait:.0f}s"
            )
        if status >= 500:
            raise CreateUnknown(f"Shortcut answered HTTP {status}; try again in a minute")
        if status >= 400:
            raise CreateRefused(f"Shortcut refused it (HTTP {status}): {_message(response)}")
        try:
            return response.json()
        except ValueError:
            raise CreateUnknown(f"Shortcut answered {path} with something that is not JSON") from None


def _message(response: requests.Response) -> str:
    """Shortcut's own reason ({"message": ...}), one short line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    text = body.get("message") if isinstance(body, dict) else None
    text = " ".join(str(text or "no reason given").split())
    return text[:MESSAGE_LIMIT]


def _error_name(response: requests.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def _retry_after(response: requests.Response, attempt: int) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return min(FALLBACK_RETRY_AFTER, 2.0**attempt)
