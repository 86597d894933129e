"""Opaque page cursors: what the last row of a page was, so the next page starts after it.

One decoder for every cursor that comes back from outside (the CLI's --cursor, `/bug … next <cursor>`, the
drill-down API's `cursor=`): its characters, its length, its base64 and JSON, and then its shape as the store
that made it describes it. Anything else is InvalidCursor, one line, never a traceback or a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Collection
from typing import Any

from storage.errors import BugTrackerError

MAX_CURSOR_CHARS = 1024  # ours are ~100-300; Slack's button value holds 2,000
_CURSOR = re.compile(r"^[A-Za-z0-9_-]+$")  # urlsafe base64 without padding, as encode_cursor writes it
_VALUE_CHARS = 400  # one string inside a cursor: a timestamp, an id, a state name

Shape = Callable[[Any], bool]


class InvalidCursor(BugTrackerError, ValueError):
    pass


def encode_cursor(position: Any) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, shape: Shape) -> Any:
    """The position a cursor holds, if it is one of ours and has the `shape` its store expects."""
    refusal = InvalidCursor("that page cursor is not one this store gave out; start again without it")
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS or not _CURSOR.match(cursor):
        raise refusal
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise refusal from None
    if not shape(position):
        raise refusal
    return position


def _short_string(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _VALUE_CHARS


def strings(length: int) -> Shape:
    """A list of `length` non-empty strings (SQLite's [created_at, source_record])."""
    return lambda position: (
        isinstance(position, list) and len(position) == length and all(map(_short_string, position))
    )


def string_map(keys: Collection[str], check: Callable[[dict[str, str]], bool] = lambda _: True) -> Shape:
    """A map of exactly `keys` to non-empty strings, passing `check` (DynamoDB's LastEvaluatedKey)."""
    wanted = set(keys)

    def shape(position: Any) -> bool:
        return (
            isinstance(position, dict)
            and set(position) == wanted
            and all(map(_short_string, position.values()))
            and check(position)
        )

    return shape
