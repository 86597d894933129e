"""The in-memory title index the suggestions search: BM25 (bm25s) over the titles of open records.

Kept current incrementally: `apply(records)` is called with every record the store writes (and every record a
link moves), so the index never reads the table per message. Candidates are open Zendesk tickets and
Shortcut stories (state type not done, not deleted) and Slack reports still under their own id (possible
duplicates; only recent ones are suggested, see `Suggester`).

bm25s has no incremental insert, so the entries (a dict) change at once and the BM25 matrix is rebuilt from
memory in a background thread, coalescing bursts (a sync page is one rebuild, about 0.1 s at 10,000
records). Until a rebuild lands, a query skips entries that closed, moved or were deleted, takes each
entry's place from the live dict, and scores the entries added or retitled since the build one by one with
the same BM25 formula and corpus statistics: a report is searchable the moment it is stored.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import bm25s
import numpy as np

from bot.suggest.matching import words_of
from bot.worker import Worker
from storage.model import BugRecord

log = logging.getLogger(__name__)

K1, B = 1.5, 0.75  # bm25s' defaults (Lucene's BM25)
REBUILD_SETTLE_SECONDS = 0.05  # a burst of changes (a sync page, a link) is rebuilt once
MAX_PENDING_SCORED = 2_000  # beyond this many unbuilt entries (a big sync page), wait for the rebuild


@dataclass(frozen=True)
class Entry:
    key: str  # "zendesk#123": one entry per source record
    home_id: str  # ZD-123
    location: str  # the ticket id it lives under now (what a link goes to)
    source_system: str
    title: str
    created_at: str
    state: str | None
    url: str | None
    visible_to: str | None = None  # created from a private channel's report: only its readers (readers.py)
    # False: read from an index row that carries no attributes (DynamoDB's, at load): whether visible_to is
    # set is not known yet; the suggester reads the record once before it shows it (Suggester._judged)
    judged: bool = True


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float  # BM25 score divided by the score the query would get against itself: 0..~1


def is_candidate(record: BugRecord) -> bool:
    if record.deleted:
        return False
    if record.source_system == "slack":  # a possible duplicate while it is not linked to a ticket
        return record.location == record.home_id
    return record.state_type != "done"


class _Stats:
    """Corpus statistics BM25 needs (size, average length, document frequencies), and the score itself
    (Lucene's BM25, as bm25s computes it) for a document outside the matrix."""

    def __init__(self, corpus: list[list[str]]) -> None:
        self.size = len(corpus)
        self.avg_length = sum(len(words) for words in corpus) / max(self.size, 1)
        self.document_frequency = Counter(word for words in corpus for word in set(words))

    def idf(self, word: str) -> float:
        """Lucene's idf; a word no title has counts as the rarest one (df 1), so that in a small index the
        words of a report that no ticket uses do not outweigh the ones it shares."""
        found = max(self.document_frequency.get(word, 0), 1)
        return math.log(1 + (max(self.size, found) - found + 0.5) / (found + 0.5))

    def _term(self, word: str, count: int, length: int) -> float:
        length_norm = K1 * (1 - B + B * length / max(self.avg_length, 1e-9))
        return self.idf(word) * count * (K1 + 1) / (count + length_norm)

    def score(self, query: list[str], document: list[str]) -> float:
        counts = Counter(document)
        return sum(self._term(word, counts[word], len(document)) for word in query if word in counts)

    def best_possible(self, words: list[str]) -> float:
        """The score of a document that is exactly the query: the scale that turns a score into 0..1."""
        return sum(self._term(word, count, len(words)) for word, count in Counter(words).items())


class _Built:
    """One immutable BM25 matrix over a snapshot of the entries."""

    def __init__(self, entries: list[Entry], version: int) -> None:
        self.version = version  # the change counter the snapshot was taken at
        self.keys = [entry.key for entry in entries]
        self.titles = {entry.key: entry.title for entry in entries}
        corpus = [words_of(entry.title) or [""] for entry in entries]
        self.stats = _Stats(corpus)
        self.retriever = bm25s.BM25(k1=K1, b=B)
        self.retriever.index(corpus, show_progress=False)


class TitleIndex:
    def __init__(self, *, background: bool = True) -> None:
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()
        self._built: _Built | None = None
        self._version = 0  # counts changes
        # entries added or retitled since the matrix was built: scored one by one until the next rebuild
        self._pending: dict[str, tuple[int, Entry, list[str]]] = {}
        self._dirty = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._background = background
        self._rebuilder = _Rebuilder(self)

    # -- keeping it current -------------------------------------------------------------------
    def apply(self, records: Iterable[BugRecord]) -> None:
        """Add, update or drop each record (as stored: `ticket_id` = where it lives now)."""
        changed = False
        with self._lock:
            for record in records:
                key = record.source_record
                if is_candidate(record):
                    entry = Entry(
                        key=key,
                        home_id=record.home_id,
                        location=record.location,
                        source_system=record.source_system,
                        title=record.title or "",
                        created_at=record.created_at,
                        state=record.state,
                        url=record.url,
                        visible_to=record.attributes.get("visible_to") or None,
                        judged=record.source_system == "slack" or bool(record.attributes),
                    )
                    before = self._entries.get(key)
                    if before != entry:
                        self._entries[key] = entry
                        self._version += 1
                        if before is None or before.title != entry.title:
                            self._pending[key] = (self._version, entry, words_of(entry.title))
                        changed = True
                elif self._entries.pop(key, None) is not None:
                    self._pending.pop(key, None)
                    changed = True
        if changed:
            self._schedule()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Entry | None:
        return self._entries.get(key)

    def judge(self, key: str, visible_to: str | None) -> Entry | None:
        """Who may read an entry not judged yet, as its record says (an entry written since is kept)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and not entry.judged:
                entry = replace(entry, visible_to=visible_to, judged=True)
                self._entries[key] = entry
            return entry

    def rebuild(self) -> None:
        """Rebuild the BM25 matrix from the entries now (the background thread calls this)."""
        self._dirty.clear()
        with self._lock:
            entries, version = list(self._entries.values()), self._version
        built = _Built(entries, version) if entries else None
        with self._lock:
            self._built = built
            self._pending = {key: item for key, item in self._pending.items() if item[0] > version}

    def flush(self, timeout: float = 10.0) -> None:
        """Make every applied change searchable before returning (start-up, tests, benchmarks)."""
        deadline = threading.Event()
        waited = 0.0
        while (self._dirty.is_set() or not self._idle.is_set()) and waited < timeout:
            deadline.wait(0.01)
            waited += 0.01

    def _schedule(self) -> None:
        self._dirty.set()
        if not self._background:  # tests and benchmarks: rebuild in the writer's thread
            self.rebuild()
            return
        self._rebuilder.start()  # the first change starts it (later calls: nothing)
        self._rebuilder.wake()

    def rebuild_when_dirty(self) -> None:
        """One turn of the background rebuild: after a change, once a burst (a sync page, a link) is over."""
        if not self._dirty.is_set():
            return
        self._idle.clear()
        try:
            self._rebuilder.pause(REBUILD_SETTLE_SECONDS)
            self.rebuild()
        except Exception:  # keep serving the previous matrix; the next change retries
            log.exception("could not rebuild the suggestion index")
        finally:
            self._idle.set()

    def close(self, timeout: float = 5.0) -> bool:
        """Stop the background rebuilds (the process is ending)."""
        return self._rebuilder.stop(timeout)

    # -- searching ----------------------------------------------------------------------------
    def search(
        self, text: str, *, limit: int, min_score: float, accept: Callable[[Entry], bool] | None = None
    ) -> list[Hit]:
        """The best entries for `text`, at most one per ticket (location), best first, score >= min_score;
        `accept` leaves entries out (the report itself, where it lives, old Slack reports)."""
        with self._lock:
            built, pending = self._built, list(self._pending.values())
        words = words_of(text)
        if not words:
            return []
        # nothing built yet: the pending entries are the whole corpus
        stats = built.stats if built is not None else _Stats([document for _, _, document in pending])
        scale = stats.best_possible(words) or 1.0
        scored: list[tuple[float, Entry | None, str]] = []  # (score, pending entry or None, key)
        known = [word for word in words if word in built.retriever.vocab_dict] if built else []
        if built is not None and known:
            scores = built.retriever.get_scores(known)
            for position in np.argsort(-scores)[: max(limit * 10, 50)]:
                score = float(scores[position]) / scale
                if score < min_score:
                    break
                scored.append((score, None, built.keys[position]))
        if len(pending) <= MAX_PENDING_SCORED:
            for _, waiting, document in pending:
                score = stats.score(words, document) / scale
                if score >= min_score:
                    scored.append((score, waiting, waiting.key))
        scored.sort(key=lambda item: -item[0])
        hits: dict[str, Hit] = {}
        for score, pending_entry, key in scored:
            entry = self._entries.get(key)
            if entry is None:  # closed, moved away, deleted
                continue
            if pending_entry is None and built is not None and entry.title != built.titles.get(key):
                continue  # retitled since the build: its pending copy is scored instead
            if accept is not None and not accept(entry):
                continue
            if entry.location not in hits:
                hits[entry.location] = Hit(entry, score)
                if len(hits) == limit:
                    break
        return list(hits.values())


class _Rebuilder(Worker):
    """The index's worker: rebuilds the matrix whenever it is woken after a change."""

    def __init__(self, index: TitleIndex) -> None:
        super().__init__("suggest-index")
        self.index = index

    def step(self) -> None:
        self.index.rebuild_when_dirty()
