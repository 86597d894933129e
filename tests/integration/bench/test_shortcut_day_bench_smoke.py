"""The steady-state day benchmark's own run at a tiny size, so bench/shortcut_day.py cannot rot unnoticed:
one simulated day of 288 scheduled runs stays under 300 Shortcut requests and finds the deletion made at
mid-day (the recheck compares every eight hours: one made in the day's last eight is found the next day)."""

from __future__ import annotations

import sys

from bench import shortcut_day


def test_a_day_of_scheduled_runs_stays_under_the_target_and_finds_the_deletions(monkeypatch, capsys) -> None:
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    argv = ["shortcut_day", "--stories", "400", "--changes", "5", "--deletions", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    shortcut_day.main()
    out = capsys.readouterr().out
    assert "target <= 300: met" in out, out
    assert "deletions found: 1 of 1" in out, out
    assert "at rest (no deletion): 292 " in out, out  # 288 pulls, /member once, 3 comparisons
