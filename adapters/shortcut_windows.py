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


def window_step(matches: int, days: int) -> int:
    """Days between the edges of the windows that read `matches`, spread evenly over `days`, in the fewest
    requests. Each window is full (3 or 4 pages, under the 1,000 cap with its shared boundary day) but the
    last, which holds what is left and costs only the pages that fills: full windows leave no page partly
    empty but the last one (windows of even size each would leave one each)."""
    per_day = matches / max(days, 1)
    if per_day <= 0:
        return max(1, days)
    best: tuple[int, int] | None = None
    for pages in (4, 3):
        step = int((pages * PAGE - CAP_ROOM - per_day) // per_day)  # a window's days, its boundary aside
        if step < 1:
            continue
        full, rest = divmod(days, step)
        cost = full * pages + (math.ceil((rest + 1) * per_day / PAGE) if rest else 0)
        if best is None or cost < best[0]:
            best = (cost, step)
    return best[1] if best else 1


def split_days(low: date, high: date | None, today: date, matches: int = 0) -> list[DayWindow] | None:
    """Windows covering (low, high) that overlap on their boundary days, oldest first; None for one day.

    Full windows of the days window_step says for `matches` if they spread evenly, from the oldest, and
    the newest one with what is left (two windows at least): a window that still reaches the cap is split
    again. An open window (high None, up to now) keeps its newest part open."""
    last = high or today
    span = (last - low).days
    if span <= 0:
        return None
    if span == 1:
        return [(low, low), (last, high)]
    step = min(window_step(matches, span), max(1, span // 2)) if matches else max(1, span // 2)
    edges = [low + timedelta(days=step * number) for number in range(math.ceil(span / step))] + [last]
    windows: list[DayWindow] = [(edges[n], edges[n + 1]) for n in range(len(edges) - 1)]
    windows[-1] = (windows[-1][0], high)
    return windows


def split_back(high: date, matches: int, per_day: float, earliest: date) -> list[DayWindow]:
    """The days before `high` (the workspace's creation) as windows going back from it, oldest first: full
    windows of the days window_step says at `per_day` matches a day (the workspace's own pace, the best
    guess; no further back than `earliest`), the oldest one open (it holds what is left, and whatever is
    older still; over the cap, it is split back in turn)."""
    most = max(1, (high - earliest).days)
    days = min(most, max(1, math.ceil(matches / per_day))) if per_day > 0 else most
    step = window_step(matches, days)
    parts = max(1, math.ceil(days / step))
    edges = [high - timedelta(days=step * number) for number in range(parts, -1, -1)]
    return [(None, edges[1]), *((edges[n], edges[n + 1]) for n in range(1, parts))]


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
