"""Connecting to Slack at start, in one line each, never a traceback (the README's promise).

- A token Slack refuses (`invalid_auth`, `token_revoked`, `account_inactive`, …) stops the process: one
  error line naming the variable, exit 3 (bot/run.py).
- Slack unreachable (no network, DNS, 5xx, a 429) is waited out: retried with backoff (1 s, 2 s, 4 s … at most
  30 s apart), one log line per attempt, until it answers or the process is asked to stop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.web_client import json_object
from storage.errors import BugTrackerError

log = logging.getLogger(__name__)

REFUSED_TOKEN = frozenset(
    {
        "invalid_auth",
        "token_revoked",
        "account_inactive",
        "not_authed",
        "token_expired",
        "not_allowed_token_type",
    }
)
FIRST_DELAY = 1.0
MAX_DELAY = 30.0

T = TypeVar("T")


class SlackRefused(BugTrackerError):
    """Slack refused a token or a request at start: retrying will not help."""


class StartStopped(BugTrackerError):
    """The process was asked to stop while Slack was still unreachable."""


def _quiet_client(client: WebClient) -> WebClient:
    """The same token and URL, without retries and without slack_sdk's own error line per failure, so that
    each attempt is one line of ours."""
    quiet = logging.Logger("bot.slack.startup.sdk", level=logging.CRITICAL + 1)  # standalone: no output
    return WebClient(
        token=client.token, base_url=client.base_url, timeout=10, logger=quiet, retry_handlers=[]
    )


def _unreachable(error: BaseException) -> str | None:
    """Why Slack could not be reached (worth waiting for), or None when it answered and refused."""
    if isinstance(error, SlackApiError):
        status = int(getattr(error.response, "status_code", 200) or 200)
        return f"HTTP {status}" if status >= 500 or status == 429 else None
    if isinstance(error, OSError | SlackClientError):
        reason = getattr(error, "reason", None) or error
        return f"{type(error).__name__}: {reason}"
    return None


def _retry_after(error: BaseException) -> float | None:
    """A 429's Retry-After (seconds): Slack says how long to wait; None for anything else."""
    if not isinstance(error, SlackApiError) or int(getattr(error.response, "status_code", 0) or 0) != 429:
        return None
    headers = getattr(error.response, "headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return max(0.0, float(value[0] if isinstance(value, list) else value)) if value else None
    except ValueError:
        return None


def with_backoff(
    call: Callable[[], T],
    what: str,
    variable: str,
    stop: threading.Event | None = None,
    first_delay: float = FIRST_DELAY,
) -> T:
    """`call()` until Slack answers; raises SlackRefused (one line) when it refuses, StartStopped when
    `stop` is set while waiting."""
    stop = stop or threading.Event()
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except (SlackApiError, SlackClientError, OSError) as exc:
            retry_after = _retry_after(exc)
            reason = _unreachable(exc)
            if reason is None:
                error = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
                if error in REFUSED_TOKEN:
                    raise SlackRefused(
                        f"Slack refused {variable} ({error}): check the token (revoked, or from another"
                        " workspace or app?) and that the app is installed"
                    ) from None
                raise SlackRefused(f"Slack refused {what} ({error})") from None
        delay = retry_after if retry_after is not None else min(MAX_DELAY, first_delay * 2 ** (attempt - 1))
        log.warning(
            "Slack unreachable for %s (attempt %d: %s); retrying in %.0f s", what, attempt, reason, delay
        )
        if stop.wait(delay):
            raise StartStopped(f"stopped while Slack was unreachable for {what}")


def verify_app_token(client: WebClient, app_token: str, stop: threading.Event | None = None) -> str:
    """apps.connections.open with SLACK_APP_TOKEN, asked here rather than by the Socket Mode client (which
    would log its own error lines): a refused token is one line, a 429 waits its Retry-After. Returns the
    WebSocket URL it hands out: the first connection uses it (one apps.connections.open per start)."""
    quiet = _quiet_client(client)
    answer = with_backoff(lambda: quiet.apps_connections_open(app_token=app_token), "apps.connections.open",
                          "SLACK_APP_TOKEN", stop)  # fmt: skip
    return str(answer["url"])


def verify_bot_token(client: WebClient, stop: threading.Event | None = None) -> dict[str, Any]:
    """auth.test with SLACK_BOT_TOKEN: the bot's identity (user_id, bot_id, url)."""
    quiet = _quiet_client(client)
    return with_backoff(lambda: json_object(quiet.auth_test()), "auth.test", "SLACK_BOT_TOKEN", stop)
