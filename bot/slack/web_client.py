"""The process's Slack Web API client: paced per method (bot/slack/pacing.py), retried only where a retry is
safe.

- HTTP 429: the method is held for its `Retry-After` (every thread of the process waits for that method
  only), then the call is asked again.
- A 5xx answer or a broken connection: retried for every method EXCEPT the non-idempotent posts
  (`chat.postMessage`, `chat.postEphemeral`): Slack may have taken the post before the answer was lost, and
  it has no idempotency key, so a blind retry can post twice. The caller decides (bot/slack/answers.py reads
  the thread back before posting again).
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import urlparse

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (  # ServerErrorRetryHandler is not re-exported
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse

from bot.slack.pacing import MethodPacing

NON_IDEMPOTENT = frozenset({"chat.postMessage", "chat.postEphemeral"})


def method_of(url: str) -> str:
    """`https://slack.com/api/chat.postMessage?x=1` -> `chat.postMessage`."""
    return urlparse(url).path.rsplit("/", 1)[-1]


class IdempotentServerErrorRetryHandler(ServerErrorRetryHandler):
    """Retries a 500 / 503 answer, except for a post (it may have landed)."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest, **kwargs: Any) -> bool:
        if method_of(request.url) in NON_IDEMPOTENT:
            return False
        return super()._can_retry(state=state, request=request, **kwargs)


class IdempotentConnectionErrorRetryHandler(ConnectionErrorRetryHandler):
    """Retries a broken connection, except for a post (it may have landed)."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest, **kwargs: Any) -> bool:
        if method_of(request.url) in NON_IDEMPOTENT:
            return False
        return super()._can_retry(state=state, request=request, **kwargs)


class HoldingRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """On a 429, holds the method back for its Retry-After in the shared pacing (so the process's other
    threads wait for that method too, and only for it), waits it out, then asks again. A 429 means the call
    was refused, so asking again is safe for every method, posts included."""

    def __init__(self, pacing: MethodPacing, max_retry_count: int = 5) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacing = pacing

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:  # can_retry_custom takes only a 429 answer: there is one
            raise error if error is not None else ValueError("a retry without an answer")
        headers = {key.lower(): value for key, value in response.headers.items()}
        value = headers.get("retry-after")
        text = value[0] if isinstance(value, list) else value
        seconds = (float(text) if text and str(text).isdigit() else 1.0) + random.random() / 2
        method = method_of(request.url)
        self.pacing.hold(method, seconds)
        self.pacing.sleep(self.pacing.held(method))
        state.next_attempt_requested = True
        state.increment_current_attempt()


def json_object(response: SlackResponse) -> dict[str, Any]:
    """A Web API method's answer as the JSON object it is (slack_sdk types `data` as dict or bytes: bytes only
    for file downloads, which this bot never asks for)."""
    if not isinstance(response.data, dict):
        raise TypeError(f"Slack answered {response.api_url} with bytes, not a JSON object")
    return response.data


def _channel(json: dict | None, params: dict | None, data: dict | None) -> str | None:
    for arguments in (json, params, data):
        if isinstance(arguments, dict) and isinstance(arguments.get("channel"), str):
            return arguments["channel"]
    return None


class PacedWebClient(WebClient):
    """A WebClient whose every call waits for its method's turn in the process's shared pacing."""

    def __init__(self, *args: Any, pacing: MethodPacing, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pacing = pacing

    def api_call(self, api_method: str, **kwargs: Any) -> Any:
        channel = _channel(kwargs.get("json"), kwargs.get("params"), kwargs.get("data"))
        self.pacing.wait(api_method, channel)
        return super().api_call(api_method, **kwargs)


def build_web_client(token: str, base_url: str, pacing: MethodPacing) -> PacedWebClient:
    retry_handlers = [
        IdempotentConnectionErrorRetryHandler(max_retry_count=2),
        HoldingRateLimitRetryHandler(pacing, max_retry_count=5),
        IdempotentServerErrorRetryHandler(max_retry_count=2),
    ]
    return PacedWebClient(token=token, base_url=base_url, retry_handlers=retry_handlers, pacing=pacing)
