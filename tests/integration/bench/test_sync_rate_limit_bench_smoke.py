"""The rate-limit benchmark's own run at a tiny size, so bench/sync_rate_limit.py cannot rot unnoticed: the
fakes enforce the limits (429s happen), every item is stored, and a backfill never beats the floor."""

from __future__ import annotations

from bench.sync_rate_limit import floor_seconds, shortcut_backfill, zendesk_backfill


def test_floor_is_one_window_per_full_batch_of_requests() -> None:
    assert [floor_seconds(n, 10, 6.0) for n in (0, 1, 10, 11, 20, 21)] == [0, 0, 0, 6.0, 6.0, 12.0]


def test_backfills_at_the_limit_store_everything_and_take_at_least_the_floor(monkeypatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    # A minute lasts 6 s: the 11th of 12 pages comes within 6 s of the first even on a loaded machine (a page
    # would have to take 0.6 s), so the limit binds and a 429 is certain.
    scheduled = zendesk_backfill(600, per_page=50, scale=10, scheduled=True)
    assert scheduled["requests"] == 12 and scheduled["refused"] > 0
    assert scheduled["wall"] >= scheduled["floor"] == 6.0
    shortcut = shortcut_backfill(1300, scale=120, divisor=40)  # 5 requests a window of 0.5 s
    assert shortcut["wall"] >= shortcut["floor"] > 0
