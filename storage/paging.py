"""Opaque page cursors: what the last row of a page was, so the next page starts after it."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from storage.errors import BugTrackerError


class InvalidCursor(BugTrackerError, ValueError):
    pass


def encode_cursor(position: Any) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("that page cursor is not one this store gave out") from None
