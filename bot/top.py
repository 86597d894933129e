"""`top`: the open bugs that hurt most, as one person may see them (the ranked read of storage/impact.py).

What the numbers mean (docs/impact.md): *reports* are live Slack reports linked under the bug, *tickets* its
live Zendesk tickets, *people* the distinct Slack authors and Zendesk requesters behind them (*customers*: the
requesters alone), the priority the highest among its records, the age that of its oldest record. Counts are
taken over what the asker may read (bot/slack/readers.py): reports of channels they are not in are left out,
Zendesk and Shortcut records are counted for readers of any bug channel, and the priority is shown only when
every record is visible to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.services import UsageError
from storage.impact import Impact, Numbers
from storage.model import PRIORITIES
from storage.store import BugStore

DEFAULT_TOP = 10
MAX_TOP = 50
# The ranked read fetches this many times what is asked (still one request): a bug the asker may not read
# is dropped, and what stays is re-ranked by the numbers they see.
READ_AHEAD = 3


@dataclass(frozen=True)
class TopBug:
    ticket_id: str
    title: str  # "" when the bug's own record is not one the asker may read
    state: str | None
    url: str | None
    numbers: Numbers

    @property
    def summary(self) -> str:
        """ "3 reports · 2 tickets · 4 people" (zeros left out)."""
        return impact_line(self.numbers)


def check_top_limit(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_TOP
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_TOP:
        raise UsageError(f"top takes a number of bugs from 1 to {MAX_TOP}")
    return int(text)


def top_bugs(
    store: BugStore, limit: int, channels: Iterable[str] | None = None, others: bool | None = None
) -> list[TopBug]:
    """The open bugs ranked by what the asker sees; channels: the bug channels they read (None: all);
    others: whether Zendesk / Shortcut records count (None: when they read a bug channel)."""
    allowed = None if channels is None else frozenset(channels)
    ranked = store.top_impacts(limit * READ_AHEAD)
    found = [shown for bug in ranked if (shown := as_seen(bug, allowed, others))]
    found.sort(key=lambda bug: rank_key(bug.numbers), reverse=True)
    return found[:limit]


def as_seen(bug: Impact, channels: frozenset[str] | None, others: bool | None = None) -> TopBug | None:
    numbers = bug.visible(channels, others)
    if not (numbers.reports or numbers.tickets or numbers.stories):
        return None
    root = bug.root_visible(channels, others)
    if root is None and bug.root is not None and bug.root.source_system != "slack" and not numbers.reports:
        # a ticket created from a private channel's report (read there only, until a pull writes it again)
        # with none of the reader's reports under it: not even its id
        return None
    return TopBug(
        ticket_id=bug.ticket_id,
        title=root.title if root else "",
        state=root.state if root else None,
        url=root.url if root else None,
        numbers=numbers,
    )


def rank_key(numbers: Numbers) -> tuple[int, int, int]:
    priority = len(PRIORITIES) - PRIORITIES.index(numbers.priority) if numbers.priority else 0
    return (numbers.people, numbers.reports + numbers.tickets, priority)


def plural(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def impact_line(numbers: Numbers) -> str:
    parts = [
        plural(numbers.reports, "report") if numbers.reports else "",
        plural(numbers.tickets, "ticket") if numbers.tickets else "",
        (f"{numbers.people} {'person' if numbers.people == 1 else 'people'}") if numbers.people else "",
    ]
    return " · ".join(part for part in parts if part) or "no reports"


def waiting_line(numbers: Numbers) -> str:
    """The status card's line: "3 reports · 5 customers waiting" ("" when nothing waits)."""
    parts = [
        plural(numbers.reports, "report") if numbers.reports else "",
        f"{plural(numbers.customers, 'customer')} waiting" if numbers.customers else "",
    ]
    return " · ".join(part for part in parts if part)


def age(numbers: Numbers, now: datetime | None = None) -> str:
    """ "3d", "5h", "<1h" since the bug's oldest record (hour precision); "" when unknown."""
    if numbers.first_hour is None:
        return ""
    first = datetime.strptime(numbers.first_hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    hours = int(((now or datetime.now(UTC)) - first).total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24}d"
    return f"{hours}h" if hours >= 1 else "<1h"
