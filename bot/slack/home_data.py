"""What the App Home tab shows a person, transport-agnostic: open bugs by priority and source, the open bugs
that hurt most (ranked by impact, over what the person may read), the newest
Slack reports not linked yet (each with the tickets it resembles), and the person's own reports with the
state of the ticket each lives under.

"Own reports" has no index (the author is an attribute, not a key): each author's reports are kept in a list
in the store (`home:reports:<user>`, storage AddToList), written in the same commit as the report's insert
(live or through the sweep's catch-up), so it costs no request of its own. Lists kept by earlier versions
(one meta value per author, rewritten with each report) are still read.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bot.services import unlinked_reports
from bot.slack.readers import EVERYTHING, ReaderScope
from bot.top import TopBug, top_bugs
from storage.errors import BugTrackerError
from storage.model import BugRecord
from storage.primitives import AddToList, Write
from storage.store import BugStore
from storage.values import Counts, TicketView

OWN_SHOWN = 10  # of which the Home tab shows (one show() each)
UNLINKED_SHOWN = 5  # newest unlinked reports on the Home tab
HURTS_SHOWN = 5  # open bugs ranked by impact on the Home tab
COUNTS_SECONDS = 60.0  # the open-bug counts shown are at most this old


@dataclass(frozen=True)
class UnlinkedReport:
    report: BugRecord
    suggestions: list[Any]  # bot.suggest.service.Suggestion, best first (empty without a suggester)


@dataclass(frozen=True)
class OwnReport:
    report_id: str
    view: TicketView | None  # None: no longer stored


@dataclass
class HomeData:
    counts: Counts
    unlinked: list[UnlinkedReport] = field(default_factory=list)
    own: list[OwnReport] = field(default_factory=list)
    more_unlinked: bool = False
    hurts_most: list[TopBug] = field(default_factory=list)  # open bugs ranked by impact (bot/top.py)
    refusal: str | None = None  # the person reads no bug channel: this line instead of everything else


def own_key(user: str) -> str:
    return f"home:reports:{user}"


def own_report_entry(user: str | None, report: BugRecord) -> list[Write]:
    """What keeps a new report in its author's list: written with the report's insert (nothing without an
    author)."""
    return [AddToList(own_key(user), report.home_id, report.created_at)] if user else []


def own_reports(store: BugStore, user: str) -> list[str]:
    """The author's newest reports first (at most OWN_SHOWN): the list kept with each insert, then what an
    earlier version kept in meta."""
    listed = store.read_list(own_key(user), OWN_SHOWN)
    earlier = list((store.get_meta(own_key(user)) or {}).get("reports") or [])
    return list(dict.fromkeys([*listed, *earlier]))[:OWN_SHOWN]


class CachedCounts:
    """The Home tab reuses one `store.counts()` reading for `seconds`: a reading is one GetItem of the kept
    counters (docs/scale.md), so this only spares a request per tab opening, at most a minute stale."""

    def __init__(self, store: BugStore, seconds: float = COUNTS_SECONDS) -> None:
        self.store, self.seconds = store, seconds
        self._value: Counts | None = None
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> Counts:
        with self._lock:
            if self._value is None or time.monotonic() - self._read_at > self.seconds:
                self._value, self._read_at = self.store.counts(), time.monotonic()
            return self._value


def home_data(
    store: BugStore,
    user: str,
    suggester: Any | None = None,
    counts: CachedCounts | None = None,
    scope: ReaderScope = EVERYTHING,
) -> HomeData:
    """What `user` sees; `scope` (bot/slack/readers.py) says which channels' reports they may read."""
    visible = None if scope.everything else scope.may_read
    page = unlinked_reports(store, limit=UNLINKED_SHOWN, visible=visible)
    unlinked = [
        UnlinkedReport(
            record, suggester.suggest_text(record.title, record.home_id, visible=visible) if suggester else []
        )
        for record in page.records
    ]
    own = []
    for report_id in own_reports(store, user):
        try:
            view, _ = scope.view(store.show(report_id, include_deleted=True))
            own.append(OwnReport(report_id, view))
        except BugTrackerError:
            own.append(OwnReport(report_id, None))
    totals = counts() if counts is not None else store.counts()
    hurts = top_bugs(store, HURTS_SHOWN, None if scope.everything else scope.channels)
    return HomeData(totals, unlinked, own, more_unlinked=page.next_cursor is not None, hurts_most=hurts)
