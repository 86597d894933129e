"""What one record may weigh: every item far under DynamoDB's 400 KB, every move under 4 MB, on both stores.

A link moves up to `RECORDS_PER_TRANSACTION` (30) records in one DynamoDB transaction (4 MB at most), so a
record is held to MAX_RECORD_BYTES (64 KB as UTF-8 JSON: 30 x 64 KB is under 2 MB with the deletes and
the bookkeeping). The adapters call `bound_record` on every record they make, after bounding what they know
best themselves (the Slack adapter cuts a message's text without splitting its markup and marks it
`text_truncated`; its tag lists and problems are short by construction).

`bound_record` is idempotent (a bounded record comes back equal), so newer-wins comparisons of a stored
copy and a fresh one are not disturbed. What it had to cut is marked `attributes["bounded"] = True`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any

from storage.model import BugRecord

MAX_RECORD_BYTES = 64 * 1024
TITLE_LIMIT = 500
SHORT_LIMIT = 200  # state, raw priority: a word or two
# Strings and lists inside attributes: generous first, tighter while the record is still too heavy.
ATTRIBUTE_PASSES = ((8000, 100), (1000, 20), (100, 5))
ELLIPSIS = "…"


def clip(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """At most `limit` characters, ending with `ellipsis` when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ellipsis))] + ellipsis


def record_bytes(record: BugRecord) -> int:
    """The record's weight as UTF-8 JSON: close to (a little above) its DynamoDB item size."""
    return len(json.dumps(asdict(record), ensure_ascii=False, default=str).encode())


def _bounded(value: Any, strings: int, items: int) -> tuple[Any, bool]:
    """(value with every string <= strings chars and every list / map <= items entries, whether cut)."""
    if isinstance(value, str):
        clipped = clip(value, strings)
        return clipped, clipped != value
    if isinstance(value, list | tuple):
        cut = len(value) > items
        kept = []
        for child in value[:items]:
            bounded, child_cut = _bounded(child, strings, items)
            kept.append(bounded)
            cut = cut or child_cut
        return kept, cut
    if isinstance(value, dict):
        cut = len(value) > items
        kept_map = {}
        for key, child in list(value.items())[:items]:
            bounded, child_cut = _bounded(child, strings, items)
            kept_map[key] = bounded
            cut = cut or child_cut
        return kept_map, cut
    return value, False


def _within(value: Any, strings: int, items: int) -> int | None:
    """An upper bound of the value's UTF-8 JSON size (6 bytes a character, as `\\u0001`), or None when a
    string or list is over the first pass's limits. The fast path: most records come back untouched."""
    if isinstance(value, str):
        return None if len(value) > strings else 6 * len(value) + 2
    if isinstance(value, list | tuple | dict):
        if len(value) > items:
            return None
        total = 2
        children = value.items() if isinstance(value, dict) else ((None, child) for child in value)
        for key, child in children:
            size = _within(child, strings, items)
            if size is None:
                return None
            total += size + 2 + (6 * len(str(key)) + 3 if key is not None else 0)
        return total
    return 32  # numbers, booleans, None


def _fits(record: BugRecord) -> bool:
    strings, items = ATTRIBUTE_PASSES[0]
    attributes = _within(record.attributes, strings, items)
    if attributes is None or len(record.title or "") > TITLE_LIMIT:
        return False
    if len(record.state or "") > SHORT_LIMIT or len(record.priority_raw or "") > SHORT_LIMIT:
        return False
    named = sum(6 * len(str(value)) + 40 for value in vars(record).values() if not isinstance(value, dict))
    return attributes + named <= MAX_RECORD_BYTES


def bound_record(record: BugRecord) -> BugRecord:
    """The record with its title, state, raw priority and attributes cut to fit MAX_RECORD_BYTES."""
    if _fits(record):
        return record
    fields: dict[str, Any] = {"title": clip(record.title or "", TITLE_LIMIT)}
    if record.state is not None:
        fields["state"] = clip(record.state, SHORT_LIMIT)
    if record.priority_raw is not None:
        fields["priority_raw"] = clip(record.priority_raw, SHORT_LIMIT)
    for strings, items in ATTRIBUTE_PASSES:
        attributes, cut = _bounded(record.attributes, strings, items)
        if cut:
            attributes["bounded"] = True
        candidate = replace(record, **fields, attributes=attributes)
        if record_bytes(candidate) <= MAX_RECORD_BYTES:
            return candidate
    # Nothing left that fits: keep the named fields (the record's link is in `url`) and say so.
    return replace(record, **fields, attributes={"bounded": True})
