"""Exactly one answer in a thread, even when Slack took a post and the reply to it was lost.

`chat.postMessage` has no idempotency key, and the WebClient never retries it by itself
(bot/slack/web_client.py). Every answer carries message metadata: event_type `bugtracker_answer`, payload
`{"key": <claim key>}` (the same key that claims the answer across instances, bot/slack/claims.py). When a
post's outcome is unknown (a 5xx answer, a broken connection, a timeout), the thread is read back
(`conversations.replies` with `include_all_metadata`) and the answer is posted again only when no message of
the thread carries its key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack_message import ANSWER_EVENT_TYPE
from bot.slack.intake import IntakeResult

log = logging.getLogger(__name__)

ATTEMPTS = 3  # posts of one answer at most (the first and two after reading the thread back)
FIRST_PAUSE = 1.0  # seconds before reading the thread back; doubled each time
READ_BACK_PAGES = 10  # pages of 200 replies read back at most


def answer_key(channel: str, result: IntakeResult) -> str:
    """The answer's name: its claim (bot/slack/claims.py) and the key in its metadata."""
    return f"answer:{channel}:{result.home_id}:{result.kind}:{result.event_ts}"


def first_answer_key(channel: str, home_id: str) -> str:
    """A new report's first answer's key (answer_key of the insert's result: kind message, its own ts)."""
    return f"answer:{channel}:{home_id}:message:{home_id.split('-', 1)[1]}"


def answer_metadata(key: str, reports: list[str] | None = None) -> dict[str, Any]:
    """`reports`: the ts of each report a folded channel message answers (the sweep reads them back from the
    channel's history, so that a report folded before a crash is not answered again: bot/slack/sweep.py)."""
    payload: dict[str, Any] = {"key": key}
    if reports:
        payload["reports"] = reports
    return {"event_type": ANSWER_EVENT_TYPE, "event_payload": payload}


def folded_reports(messages: list[dict[str, Any]]) -> set[str]:
    """The reports (ts) answered by the folded answers among `messages` (read with include_all_metadata)."""
    folded: set[str] = set()
    for message in messages:
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == ANSWER_EVENT_TYPE:
            reports = (metadata.get("event_payload") or {}).get("reports")
            if isinstance(reports, list):
                folded.update(str(ts) for ts in reports)
    return folded


def outcome_unknown(error: BaseException) -> bool:
    """Whether Slack may have taken a post that failed with `error`: a 5xx answer, or no answer at all."""
    if isinstance(error, SlackApiError):
        return int(getattr(error.response, "status_code", 200) or 200) >= 500
    return isinstance(error, OSError)  # URLError, a reset or dropped connection, a timeout


def find_answer(client: WebClient, channel: str, thread_ts: str, key: str) -> dict[str, Any] | None:
    """The message of the thread that carries the answer `key` in its metadata, or None."""
    cursor = None
    for _ in range(READ_BACK_PAGES):
        page = client.conversations_replies(
            channel=channel, ts=thread_ts, include_all_metadata=True, limit=200, cursor=cursor
        )
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == ANSWER_EVENT_TYPE and (
                (metadata.get("event_payload") or {}).get("key") == key
            ):
                return message
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
    return None


def post_answer(
    client: WebClient,
    channel: str,
    thread_ts: str,
    key: str,
    sleep: Callable[[float], None] = time.sleep,
    **payload: Any,
) -> dict[str, Any]:
    """Post `payload` (text, blocks) in the thread as the answer `key`, once. Returns the message posted
    (its `ts`), whether this call or an earlier lost one posted it. Raises what Slack answers otherwise."""
    pause = FIRST_PAUSE
    for attempt in range(1, ATTEMPTS + 1):
        try:
            posted = client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, metadata=answer_metadata(key), **payload
            )
            return {"ts": posted["ts"], **(posted.get("message") or {})}
        except (SlackApiError, OSError) as exc:
            if not outcome_unknown(exc) or attempt == ATTEMPTS:
                raise
            log.warning("answer %s: post outcome unknown (%s); reading the thread back", key, _short(exc))
        sleep(pause)
        pause *= 2
        found = find_answer(client, channel, thread_ts, key)
        if found is not None:
            log.info("answer %s: the lost post had landed; not posting again", key)
            return found
    raise AssertionError("unreachable")  # the loop returns or raises


def _short(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return f"HTTP {error.response.status_code}"
    return type(error).__name__
