"""The suggestion benchmark at a small size, so bench/suggestions.py and its labelled set cannot rot
unnoticed. Latency is not checked here (benchmarks print figures); the labelled set's shape and the
quality the product's own threshold reaches on it are."""

from __future__ import annotations

import json

from bench.suggestions import CASES, build, main, quality
from bot.suggest.service import MIN_SCORE


def test_the_labelled_set_is_consistent() -> None:
    data = json.loads(CASES.read_text())
    known = {record["id"] for record in data["records"]}
    assert len(known) == len(data["records"]) >= 50
    assert len(data["cases"]) >= 90
    for case in data["cases"]:
        assert set(case["expected"]) <= known, case


def test_the_benchmark_runs_and_the_threshold_keeps_its_promise(capsys) -> None:
    assert main(["--records", "300", "--queries", "20"]) == 0
    out = capsys.readouterr().out
    assert "== 300 open records" in out and "suggestion latency" in out and "<- MIN_SCORE" in out

    suggester, data, _ = build(58)
    assert suggester.min_score == MIN_SCORE
    precision, top1, recall, false_alarm = quality(
        lambda text: [s.record_id for s in suggester.suggest_text(text)], data["cases"]
    )
    assert precision >= 0.9 and top1 >= 0.9 and recall >= 0.8 and false_alarm <= 0.1
