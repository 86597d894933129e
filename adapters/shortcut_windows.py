"""The time windows a Shortcut pull reads, and the workspace day they are counted in.

Search's `updated:A..B` takes days, read in the workspace's time zone (`GET /member` →
`workspace2.utc_offset`), and serves at most 1000 results a query. So a window that reaches the cap is split:
by days while it spans more than one, the parts overlapping on their boundary days (an exclusive upper bound
would otherwise lose it); one day is read through POST /stories/search by `updated_at_start` /
`updated_at_end` date-times, halved by time (overlapping on the boundary instant) until each part is under the
cap. The overlaps are absorbed by the id + updated_at de-duplication of the pull and the store.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

LAG_MARGIN = timedelta(hours=2)  # search-index lag and an offset a DST change made stale, absorbed
EARLIEST, LATEST = timedelta(hours=-12), timedelta(hours=14)  # the widest UTC offsets in use
PAGE = 250  # search's largest page
CAP_ROOM = 10  # matches a split window keeps clear of the 1,000 cap (its boundary day is read twice)
NOISE = 2.0  # standard deviations of its count a window cut full keeps clear of the cap (matches vary)
ONE_SECOND = timedelta(seconds=1)  # a window is not split below a second (stories' times have seconds)
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$")
_STORY_TYPES = ("bug", "feature", "chore")

DayWindow = tuple[date | None, date | None]  # (first day, last day) both included; None: open


def parse_utc_offset(text: Any) -> timedelta | None:
    """`-08:00`, `+0530`, `UTC+1`, `Z` → a timedelta; anything else None (the pull then widens its days)."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if text in ("Z", "UTC", "GMT", "0", "+00:00"):
        return timedelta(0)
    match = _OFFSET.match(text)
    if not match:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    offset = timedelta(hours=hours, minutes=minutes) * (-1 if sign == "-" else 1)
    return offset if EARLIEST <= offset <= LATEST else None


def local_day(instant: datetime, offset: timedelta | None, *, latest: bool = False) -> date:
    """The workspace's day at `instant`; the offset unknown: the earliest day anywhere (or the latest)."""
    shift = offset if offset is not None else (LATEST if latest else EARLIEST)
    return (instant.astimezone(UTC) + shift).date()


def resume_day(started: datetime, offset: timedelta | None) -> date:
    """The first day the next run asks for: the workspace's day a margin before this run started, so a story
    changed late in the evening (workspace time) or indexed late is still inside the next query; or the UTC
    day when it is earlier (a workspace east of UTC): whether search reads `updated:` days in the
    workspace's zone or in UTC is not documented, and the earlier day is safe in both readings."""
    moment = started - LAG_MARGIN
    return min(local_day(moment, offset), local_day(moment, timedelta(0)))


def day_bounds(day: date, offset: timedelta | None) -> tuple[datetime, datetime]:
    """The instants a day covers in both readings, the workspace's zone and UTC (an unknown offset: every
    zone's version of that day)."""
    midnight = datetime.combine(day, time(0), tzinfo=UTC)
    if offset is None:
        return midnight - LATEST, midnight + timedelta(days=1) - EARLIEST
    return min(midnight - offset, midnight), max(midnight - offset, midnight) + timedelta(days=1)


def window_days(matches: int, days: int) -> list[int]:
    """How long (in days) the windows reading `matches` spread evenly over `days` are, in the fewest
    requests: each costs ceil(its matches / 250) pages and must stay under the 1,000 cap with its shared
    boundary day. Two ways are weighed, 3 or 4 pages a window each: windows of even days (their slack in
    the last page shared out, which keeps every one clear of the cap when matches do not spread quite
    evenly), or windows cut full but for a noise margin (two standard deviations of their count), the last
    holding what is left (one page partly empty in all). Even wins a tie. The lengths sum to `days`, the
    full windows first."""
    per_day = matches / max(days, 1)
    if per_day <= 0:
        return [days]
    best: tuple[int, list[int]] | None = None
    for full in (False, True):
        for pages in (4, 3):
            room = pages * PAGE - CAP_ROOM - per_day  # a window's own matches, its boundary day aside
            if full:
                room -= NOISE * math.sqrt(pages * PAGE)
            if room < per_day:
                continue
            if full:
                step = int(room // per_day)
                lengths = [step] * (days // step) + ([days % step] if days % step else [])
                last = lengths[-1] if days % step else 0
                cost = (days // step) * pages + (math.ceil((last + 1) * per_day / PAGE) if last else 0)
            else:
                parts = min(days, math.ceil(matches / room))
                lengths = [days * (n + 1) // parts - days * n // parts for n in range(parts)]
                cost = parts * pages
            if best is None or cost < best[0]:
                best = (cost, lengths)
    return best[1] if best else [1] * days


def split_days(low: date, high: date | None, today: date, matches: int = 0) -> list[DayWindow] | None:
    """Windows covering (low, high) that overlap on their boundary days, oldest first; None for one day.

    As long as window_days says for `matches` if they spread evenly (two windows at least): a window that
    still reaches the cap is split again. An open window (high None, up to now) keeps its newest part open."""
    last = high or today
    span = (last - low).days
    if span <= 0:
        return None
    if span == 1:
        return [(low, low), (last, high)]
    lengths = window_days(matches, span) if matches else []
    if len(lengths) < 2:
        lengths = [span // 2, span - span // 2]
    edges = [low]
    for length in lengths:
        edges.append(edges[-1] + timedelta(days=length))
    windows: list[DayWindow] = [(edges[n], edges[n + 1]) for n in range(len(lengths))]
    windows[-1] = (windows[-1][0], high)
    return windows


def split_back(high: date, matches: int, per_day: float, earliest: date) -> list[DayWindow]:
    """The days before `high` (the workspace's creation) as windows going back from it, oldest first: as
    long as window_days says at `per_day` matches a day (the workspace's own pace, the best guess; no
    further back than `earliest`), the oldest one open (it also holds whatever is older still; over the
    cap, it is split back in turn)."""
    most = max(1, (high - earliest).days)
    days = min(most, max(1, math.ceil(matches / per_day))) if per_day > 0 else most
    lengths = window_days(matches, days)
    edges = [high]
    for length in lengths:
        edges.append(edges[-1] - timedelta(days=length))
    # newest first in `edges`; the oldest window is open
    windows: list[DayWindow] = [(edges[n + 1], edges[n]) for n in range(len(lengths))]
    windows[-1] = (None, windows[-1][1])
    return list(reversed(windows))


def split_time(low: datetime, high: datetime) -> list[tuple[datetime, datetime]] | None:
    """Two halves of a time window overlapping on the middle second, oldest first; None below two seconds."""
    if high - low < 2 * ONE_SECOND:
        return None
    middle = low + (high - low) / 2
    middle = middle.replace(microsecond=0)
    return [(low, middle), (middle, high)]


def date_time_filters(query: str) -> dict[str, Any] | None:
    """SHORTCUT_QUERY as POST /stories/search parameters, or None when it says more than they can.

    Only `type:bug|feature|chore`, `is:archived` and `!is:archived` translate (story_type, archived)."""
    filters: dict[str, Any] = {}
    for token in query.split():
        name, _, value = token.partition(":")
        if name == "type" and value in _STORY_TYPES:
            filters["story_type"] = value
        elif token in ("is:archived", "!is:archived"):
            filters["archived"] = token == "is:archived"
        else:
            return None
    return filters


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
