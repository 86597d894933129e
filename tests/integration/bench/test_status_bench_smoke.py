"""The status-board benchmark's own run at a tiny size, so bench/status_updates.py cannot rot unnoticed. The
timings are not checked; what the board noted and told is."""

from __future__ import annotations

from bench.status_updates import one_run


def test_status_benchmark_notes_and_tells_only_the_tickets_holding_reports(tmp_path) -> None:
    plain = one_run(tmp_path, tickets=300, reports=7, with_board=False)
    board = one_run(tmp_path, tickets=300, reports=7, with_board=True)
    assert plain["told"] == 0 and plain["changed"] == board["changed"] == 3  # tickets 1, 101, 201
    assert board["noted"] == 7  # the backfill touched 300 tickets; 7 hold a report
    assert board["told"] == 7 + 1  # each report once after the backfill; ZD-1's again after its change
