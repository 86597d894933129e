"""Benchmark: suggested links (bot/suggest/) — precision on a labelled set and latency with N open records.

The labelled set is bench/data/suggestion_cases.json: 58 open records (Zendesk subjects, Shortcut story
names, recent bug-channel posts) and 99 new bug-channel messages, each labelled with the records a person
would link it to (39 have none). The index holds the 58 records plus N-58 synthetic distractor titles built
from the same vocabulary (components x problems x contexts, seeded), so that common words are common.

Measured, for each threshold:
  precision   = suggestions shown that are right / suggestions shown
  top-1       = messages whose first suggestion is right / messages with any suggestion
  recall@3    = messages with a right answer that get one among the (up to 3) shown / messages with one
  false alarm = messages with no right answer that get any suggestion / messages with none
and suggestion latency (p50 / p99 of `Suggester.suggest_text`) over the labelled messages and random queries.
With rapidfuzz installed (not a dependency), its best scorers run on the same set for comparison.

Run: .venv/bin/python -m bench.suggestions [--records 10000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.suggest.index import TitleIndex
from bot.suggest.matching import words_of
from bot.suggest.service import MIN_SCORE, Suggester
from storage.model import BugRecord, now_timestamp, source_of

CASES = Path(__file__).resolve().parent / "data" / "suggestion_cases.json"
COMPONENTS = [
    "login page",
    "checkout",
    "cart",
    "invoice",
    "dashboard",
    "search",
    "profile page",
    "settings",
    "billing page",
    "orders list",
    "reports",
    "export",
    "import",
    "notifications",
    "calendar",
    "webhooks",
    "API",
    "mobile app",
    "iOS app",
    "Android app",
    "admin panel",
    "team settings",
    "inventory",
    "shipping",
    "coupons",
    "subscriptions",
    "email templates",
    "SSO",
    "onboarding",
    "file upload",
    "user list",
    "audit log",
    "integrations",
    "Zapier",
    "Slack integration",
    "help center",
    "status page",
    "analytics",
    "pricing page",
    "tax settings",
]
PROBLEMS = [
    "crashes on open",
    "shows a blank page",
    "is slow",
    "times out",
    "shows wrong totals",
    "does not save changes",
    "loses data after refresh",
    "has a broken layout on mobile",
    "shows an error 500",
    "ignores filters",
    "shows duplicate rows",
    "does not load in Safari",
    "displays wrong dates",
    "fails for some accounts",
    "returns stale data",
    "has a typo",
    "shows untranslated strings",
    "freezes when scrolling",
    "sends too many emails",
    "rejects valid input",
]
CONTEXTS = (
    "", "", " after the last release", " for enterprise customers", " on Firefox", " in the EU region",
    " when the account has many users", " since Monday", " on Windows", " for new signups",
    " with SSO enabled", " on slow connections",
)  # fmt: skip
THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)


class _RebuildNever(TitleIndex):
    """The index as it is between a burst of writes and the background rebuild, held there."""

    def _schedule(self) -> None:
        pass


def record(ticket_id: str, title: str, created: str) -> BugRecord:
    source = source_of(ticket_id)
    number = ticket_id.split("-", 1)[1]
    state, state_type = ("open", "started") if source != "slack" else (None, None)
    return BugRecord(source, number, created, created, title=title, state=state, state_type=state_type)


def distractors(count: int, seed: int = 7) -> list[BugRecord]:
    rng = random.Random(seed)
    now = now_timestamp()
    titles = (
        f"{rng.choice(COMPONENTS)} {rng.choice(PROBLEMS)}{rng.choice(CONTEXTS)}".capitalize()
        for _ in range(count)
    )
    return [record(f"ZD-{900000 + n}", title, now) for n, title in enumerate(titles)]


def build(records: int) -> tuple[Suggester, dict, float]:
    data = json.loads(CASES.read_text())
    now = now_timestamp()
    labelled = [record(item["id"], item["title"], now) for item in data["records"]]
    index = TitleIndex(background=False)
    index.apply(labelled + distractors(max(records - len(labelled), 0)))
    started = time.perf_counter()
    index.rebuild()
    return Suggester(index), data, time.perf_counter() - started


def quality(search: Callable[[str], list[str]], cases: list[dict]) -> tuple[float, float, float, float]:
    shown = right = top_right = any_shown = found = with_answer = alarms = without = 0
    for case in cases:
        ids = search(case["report"])
        expected = set(case["expected"])
        shown += len(ids)
        right += sum(1 for ticket in ids if ticket in expected)
        if ids:
            any_shown += 1
            top_right += ids[0] in expected
        if expected:
            with_answer += 1
            found += bool(expected & set(ids))
        else:
            without += 1
            alarms += bool(ids)
    return (
        right / shown if shown else 0.0,
        top_right / any_shown if any_shown else 0.0,
        found / with_answer,
        alarms / without,
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def latency(suggester: Suggester, texts: list[str]) -> tuple[float, float]:
    timings = []
    for text in texts:
        started = time.perf_counter()
        suggester.suggest_text(text)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), percentile(timings, 0.99)


def rapidfuzz_rows(data: dict, records: int, cases: list[dict]) -> list[str]:
    try:
        from rapidfuzz import fuzz, process
    except ImportError:
        return ["rapidfuzz not installed: pip install rapidfuzz to compare"]
    now = now_timestamp()
    choices = {item["id"]: " ".join(words_of(item["title"])) for item in data["records"]}
    for extra in distractors(max(records - len(choices), 0)):
        choices[extra.home_id] = " ".join(words_of(extra.title))
    rows = []
    for name, scorer, cutoffs in (
        ("token_set_ratio", fuzz.token_set_ratio, (70, 80)),
        ("token_sort_ratio", fuzz.token_sort_ratio, (65, 70)),
    ):
        for cutoff in cutoffs:

            def search(text: str, scorer=scorer, cutoff=cutoff) -> list[str]:
                query = " ".join(words_of(text))
                found = process.extract(query, choices, scorer=scorer, limit=3, score_cutoff=cutoff)
                return [key for _, _, key in found] if query else []

            timings = []
            for case in cases:
                started = time.perf_counter()
                search(case["report"])
                timings.append((time.perf_counter() - started) * 1000)
            p, top1, recall, alarm = quality(search, cases)
            rows.append(
                f"rapidfuzz {name:<16} >= {cutoff:<4} precision {p:.2f}  top-1 {top1:.2f}  "
                f"recall@3 {recall:.2f}  false alarm {alarm:.2f}  p99 {percentile(timings, 0.99):.1f} ms"
            )
    del now
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2_000)
    args = parser.parse_args(argv)

    for size in sorted({len(json.loads(CASES.read_text())["records"]), args.records}):
        suggester, data, build_seconds = build(size)
        cases = data["cases"]
        print(f"\n== {size} open records (BM25 matrix built in {build_seconds * 1000:.0f} ms) ==")
        print(f"{len(cases)} labelled messages, {sum(1 for c in cases if c['expected'])} with a right answer")
        for threshold in THRESHOLDS:
            suggester.min_score = threshold

            def search(text: str, suggester: Suggester = suggester) -> list[str]:
                return [s.record_id for s in suggester.suggest_text(text)]

            p, top1, recall, alarm = quality(search, cases)
            chosen = "  <- MIN_SCORE" if threshold == MIN_SCORE else ""
            print(
                f"bm25s (this product)       >= {threshold:<4} precision {p:.2f}  top-1 {top1:.2f}  "
                f"recall@3 {recall:.2f}  false alarm {alarm:.2f}{chosen}"
            )
        suggester.min_score = MIN_SCORE
        for row in rapidfuzz_rows(data, size, cases):
            print(row)
        rng = random.Random(11)
        queries = [case["report"] for case in cases] + [
            f"{rng.choice(COMPONENTS)} {rng.choice(PROBLEMS)} {rng.choice(CONTEXTS)}"
            for _ in range(args.queries)
        ]
        suggester.suggest_text("warm up")
        p50, p99 = latency(suggester, queries)
        print(
            f"suggestion latency over {len(queries)} queries: p50 {p50:.2f} ms, p99 {p99:.2f} ms"
            " (target p99 < 50 ms)"
        )
        stop = threading.Event()

        def rebuild_forever(suggester: Suggester = suggester, stop: threading.Event = stop) -> None:
            while not stop.is_set():
                suggester.index.rebuild()

        busy = threading.Thread(target=rebuild_forever)
        busy.start()
        p50, p99 = latency(suggester, queries)
        stop.set()
        busy.join()
        print(f"  ... while the index rebuilds nonstop in another thread: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        waiting = _RebuildNever()  # the moments between a write and its rebuild: new titles scored one by one
        waiting.apply(distractors(size, seed=5))
        waiting.rebuild()
        waiting.apply(distractors(1000, seed=98))
        p50, p99 = latency(Suggester(waiting), queries)
        print(f"  ... with 1000 titles written since the last rebuild: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        live = TitleIndex()  # as the bot runs it: writes update the dict, a thread rebuilds the matrix
        live.apply(distractors(size, seed=5))
        live.flush()
        started = time.perf_counter()
        live.apply(distractors(1000, seed=99))
        applied = time.perf_counter() - started
        live.flush()
        print(
            f"a sync page of 1000 records: {applied * 1000:.1f} ms in the writer's thread, searchable "
            f"{(time.perf_counter() - started) * 1000:.0f} ms later (background rebuild)"
        )
    print(f"\nloading the index at start from the embedded store: {load_from_store(args.records)}")
    return 0


def load_from_store(size: int) -> str:
    """`Suggester.load` from a SQLite store holding `size` open and as many closed tickets."""
    import tempfile
    from dataclasses import replace

    from storage.sqlite import SqliteStore

    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "bench.db")
        store.init()
        open_ones = distractors(size)
        closed = [
            replace(r, record_id=f"1{r.record_id}", state="closed", state_type="done") for r in open_ones
        ]
        store.upsert_many(open_ones + closed)
        started = time.perf_counter()
        loaded = Suggester(store=store).load()
        seconds = time.perf_counter() - started
        store.close()
    return f"{loaded} open of {2 * size} records in {seconds:.2f} s"


if __name__ == "__main__":
    raise SystemExit(main())
