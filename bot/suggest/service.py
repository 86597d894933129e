"""`suggest_for(report)`: the open tickets, stories and recent Slack reports a new report may be about.

One `Suggester` per process, built by bot/bootstrap.py: it loads the index once from the store's indexes
(`list_records` by source, paged), then the store's write hook (storage/observed.py) keeps it current.
Slack, the console and the App Home all call `suggest_for` / `suggest_text`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.suggest.index import Entry, TitleIndex
from storage.errors import BugTrackerError
from storage.model import BugRecord, format_timestamp
from storage.store import BugStore

log = logging.getLogger(__name__)

LIMIT = 3
# Chosen by measurement on bench/data/suggestion_cases.json among 10,000 open records (bench/suggestions.py;
# docs/benchmarks.md): the share of the best possible BM25 score a title must reach to be suggested.
MIN_SCORE = 0.2
DUPLICATE_DAYS = 30  # Slack reports younger than this are suggested as possible duplicates
LOAD_PAGE = 500


@dataclass(frozen=True)
class Suggestion:
    ticket_id: str  # what a link goes to: where the matched record lives
    record_id: str  # the matched record's own id (ZD-1, SC-2, SL-…); differs from ticket_id when linked
    source_system: str
    title: str
    url: str | None
    state: str | None
    score: float  # 0..1
    visible_to: str | None = None  # created from a private channel's report: only its readers (readers.py)

    @classmethod
    def of(cls, entry: Entry, score: float) -> Suggestion:
        return cls(
            ticket_id=entry.location,
            record_id=entry.home_id,
            source_system=entry.source_system,
            title=entry.title,
            url=entry.url,
            state=entry.state,
            score=round(score, 3),
            visible_to=entry.visible_to,
        )


class Suggester:
    def __init__(
        self,
        index: TitleIndex | None = None,
        *,
        store: BugStore | None = None,
        limit: int = LIMIT,
        min_score: float = MIN_SCORE,
        duplicate_days: int = DUPLICATE_DAYS,
    ) -> None:
        self.index = index if index is not None else TitleIndex()
        self.limit = limit
        self.min_score = min_score
        self.duplicate_days = duplicate_days
        # where `load` reads the titles and `suggest_for_id` a report (None: it searches what it is given);
        # reads only: the index hears of writes from the store's write hook, so this need not be that wrapper
        self.store = store

    def load(self) -> int:
        """Read the open records' titles once (start-up), from the store's source index; returns the count."""
        store = self.store
        if store is None:
            return 0
        started = time.monotonic()
        since = self._duplicate_cutoff()
        for source, since_at in (("zendesk", None), ("shortcut", None), ("slack", since)):
            cursor = None
            while True:
                page = store.list_records(source=source, since=since_at, limit=LOAD_PAGE, cursor=cursor)
                self.index.apply(page.records)  # DynamoDB's rows: not judged yet (Entry.judged)
                cursor = page.next_cursor
                if not cursor:
                    break
        self.index.rebuild()
        log.info("suggestions: %d open titles indexed in %.1fs", len(self.index), time.monotonic() - started)
        return len(self.index)

    def records_written(self, records: list[BugRecord]) -> None:
        """The store's write hook: every record written or moved, as stored."""
        self.index.apply(records)

    def suggest_for(
        self, report: BugRecord, visible: Callable[[Suggestion], bool] | None = None
    ) -> list[Suggestion]:
        """Up to `limit` tickets the report may belong to, best first; none for a report already linked.
        `visible`: what may be shown where they go (the readers' rule, bot/slack/readers.py)."""
        if report.location != report.home_id:
            return []
        return self.suggest_text(report.title, exclude=report.home_id, visible=visible)

    def suggest_for_id(
        self, report_id: str, visible: Callable[[Suggestion], bool] | None = None
    ) -> list[Suggestion]:
        """`suggest_for` the stored Slack report `SL-<ts>` (one read of that record)."""
        if self.store is None or not report_id.startswith("SL-"):
            return []
        report = self.store.get_record("slack", report_id.removeprefix("SL-"))
        return self.suggest_for(report, visible) if report is not None and not report.deleted else []

    def suggest_text(
        self, text: str, exclude: str | None = None, visible: Callable[[Suggestion], bool] | None = None
    ) -> list[Suggestion]:
        """`visible`: what may not be shown is never suggested."""
        cutoff = self._duplicate_cutoff()

        def accept(entry: Entry) -> bool:
            if exclude is not None and exclude in (entry.home_id, entry.location):
                return False
            if entry.source_system == "slack" and entry.created_at < cutoff:
                return False
            if visible is None:
                return True
            judged = self._judged(entry)
            return judged is not None and visible(Suggestion.of(judged, 0.0))

        hits = self.index.search(text, limit=self.limit, min_score=self.min_score, accept=accept)
        return [Suggestion.of(self.index.get(hit.entry.key) or hit.entry, hit.score) for hit in hits]

    def _judged(self, entry: Entry) -> Entry | None:
        """The entry with who may read it known: one loaded from a DynamoDB index row (no attributes) has its
        record read once, as a ticket created from a private channel's report says so in its attributes
        (`visible_to`). The store failing: None (not suggested: fail closed)."""
        if entry.judged or self.store is None:
            return entry
        try:
            record = self.store.get_record(entry.source_system, entry.key.split("#", 1)[1])
        except BugTrackerError as exc:
            log.warning("not suggested: who may read %s is not known (%s)", entry.home_id, exc)
            return None
        narrower = record.attributes.get("visible_to") if record is not None else None
        return self.index.judge(entry.key, str(narrower) if narrower else None)

    def _duplicate_cutoff(self) -> str:
        return format_timestamp(datetime.now(UTC) - timedelta(days=self.duplicate_days))
