"""Counts kept on the write path: what one stored record adds to each counter, written once for both stores.

Every write of a record (insert, newer copy, move, deletion upstream) changes the counters by
`contribution(after) - contribution(before)`; the stores add that difference in the same commit as the
record (storage/primitives.py), or once per batch for batch writes. Reading the counts is then a few
keyed reads whatever the number of records (docs/scale.md).

Counter names are flat strings (one DynamoDB attribute / one SQLite row each):
  total, deleted, priority:<P|none>, open_priority:<P|none>, state:<name>, state_type:<T|none>,
  source:<S>, open_source:<S>, slack:linked, slack:unlinked  -- the totals
  new:<YYYY-MM-DD>:<source>                                   -- live records created that UTC day
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace

from storage.model import BugRecord
from storage.primitives import InsertRecord, MoveRecord, ReplaceRecord
from storage.values import Counts

DAY_PREFIX = "new:"


def day_counter(day: str, source: str) -> str:
    return f"{DAY_PREFIX}{day}:{source}"


def split_day_counter(name: str) -> tuple[str, str]:
    """ "new:2026-11-29:slack" -> ("2026-11-29", "slack")."""
    day, source = name[len(DAY_PREFIX) :].split(":", 1)
    return day, source


def contribution(record: BugRecord) -> Counter[str]:
    """What one stored record (ticket_id = where it lives) adds to the counters."""
    if record.deleted:
        return Counter({"deleted": 1})
    priority = record.priority or "none"
    added = Counter(
        {
            "total": 1,
            f"priority:{priority}": 1,
            f"source:{record.source_system}": 1,
            f"state_type:{record.state_type or 'none'}": 1,
            day_counter(record.created_at[:10], record.source_system): 1,
        }
    )
    if record.state:
        added[f"state:{record.state}"] += 1
    if record.state_type != "done":
        added[f"open_priority:{priority}"] += 1
        added[f"open_source:{record.source_system}"] += 1
    if record.source_system == "slack":
        added["slack:linked" if record.location != record.home_id else "slack:unlinked"] += 1
    return added


def delta(before: BugRecord | None, after: BugRecord | None) -> dict[str, int]:
    """after's contribution minus before's, zeros left out (None: no record)."""
    change: Counter[str] = Counter()
    if after is not None:
        change.update(contribution(after))
    if before is not None:
        change.subtract(contribution(before))
    return {name: number for name, number in change.items() if number}


def add(total: dict[str, int], change: Mapping[str, int]) -> None:
    for name, number in change.items():
        total[name] = total.get(name, 0) + number
        if total[name] == 0:
            del total[name]


def tally(records: Iterable[BugRecord]) -> dict[str, int]:
    """Every counter from scratch (a recount)."""
    total: Counter[str] = Counter()
    for record in records:
        total.update(contribution(record))
    return dict(total)


def is_total(name: str) -> bool:
    return not name.startswith(DAY_PREFIX)


def to_counts(values: Mapping[str, int]) -> Counts:
    """The Counts of the totals counters (counters at zero are left out, as a recount would)."""
    counts = Counts()
    groups = {
        "priority": counts.by_priority,
        "open_priority": counts.open_by_priority,
        "state": counts.by_state,
        "state_type": counts.by_state_type,
        "source": counts.by_source,
        "open_source": counts.open_by_source,
    }
    for name, number in values.items():
        if not number or not is_total(name):
            continue
        group, _, key = name.partition(":")
        if name == "total":
            counts.total = number
        elif name == "deleted":
            counts.deleted = number
        elif name == "slack:linked":
            counts.slack_linked = number
        elif name == "slack:unlinked":
            counts.slack_unlinked = number
        elif group in groups:
            groups[group][key] = number
    return counts


def per_day(values: Mapping[str, int], first_day: str, last_day: str) -> dict[str, dict[str, int]]:
    """{source: {day: n}} from the day counters within [first_day, last_day]."""
    result: dict[str, dict[str, int]] = {}
    for name, number in sorted(values.items()):
        if number and not is_total(name):
            day, source = split_day_counter(name)
            if first_day <= day <= last_day:
                result.setdefault(source, {})[day] = number
    return result


def drift(kept: Mapping[str, int], recounted: Mapping[str, int]) -> dict[str, int]:
    """recounted - kept for every counter that differs."""
    names = set(kept) | set(recounted)
    return {
        name: recounted.get(name, 0) - kept.get(name, 0)
        for name in sorted(names)
        if recounted.get(name, 0) != kept.get(name, 0)
    }


def writes_delta(writes: Iterable[object]) -> dict[str, int]:
    """What one commit's record writes change in the counters (storage/primitives.py)."""
    total: dict[str, int] = {}
    for write in writes:
        match write:
            case InsertRecord(record=record, location=location):
                add(total, delta(None, replace(record, ticket_id=location)))
            case ReplaceRecord(record=record, seen=seen):
                after = replace(record, ticket_id=seen.location)
                add(total, delta(replace(seen, ticket_id=seen.location), after))
            case MoveRecord(record=record, source=source, destination=destination):
                add(total, delta(replace(record, ticket_id=source), replace(record, ticket_id=destination)))
    return total
