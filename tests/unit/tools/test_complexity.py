"""The complexity ratchet (tools/complexity.py): the repository keeps to its baseline, and the check fails on
each way of breaking it."""

from __future__ import annotations

import pytest

from tools import complexity
from tools.complexity import BASELINE, format_baseline, lowered, measure, problems, read_baseline

BASE = {("bot/a.py", "big"), ("storage/b.py", "bigger")}
FOUND = {("bot/a.py", "big"): 14, ("storage/b.py", "bigger"): 20}


def test_the_repository_keeps_to_its_baseline() -> None:
    said = problems(measure(), read_baseline(BASELINE.read_text(encoding="utf-8")))
    assert said == [], "\n".join(said) + "\n(python -m tools.complexity says how)"


def test_as_measured_it_passes() -> None:
    assert problems(FOUND, BASE) == []


def test_a_listed_function_may_change_while_over_the_limit() -> None:
    assert problems({**FOUND, ("bot/a.py", "big"): 30}, BASE) == []


def test_a_new_function_over_the_limit_fails() -> None:
    said = problems({**FOUND, ("bot/c.py", "grown"): 11}, BASE)
    assert said == ["bot/c.py: grown is too complex (11 > the limit): split it (it is not in the baseline)"]


def test_the_list_must_shrink_when_it_can() -> None:
    said = problems({("storage/b.py", "bigger"): 20}, BASE)
    assert said == ["bot/a.py: big is within the limit or gone: drop it from the baseline (--update)"]


def test_update_only_drops() -> None:
    found = {("storage/b.py", "bigger"): 12, ("bot/c.py", "new"): 11}
    assert lowered(found, BASE) == {("storage/b.py", "bigger")}


def test_the_file_format_round_trips() -> None:
    assert read_baseline(format_baseline(BASE)) == BASE


def test_a_malformed_line_is_refused() -> None:
    with pytest.raises(ValueError, match="line 1"):
        read_baseline("bot/a.py big 12\n")


def test_the_check_exits_non_zero_on_a_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(complexity, "measure", lambda: {**FOUND, ("bot/c.py", "new"): 11})
    monkeypatch.setattr(complexity, "read_baseline", lambda _text: set(BASE))
    assert complexity.main([]) == 1
    assert "bot/c.py: new is too complex" in capsys.readouterr().err
