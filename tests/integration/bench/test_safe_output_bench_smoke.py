"""bench/safe_output.py at a tiny size, so it cannot rot unnoticed; the figures are not checked."""

from __future__ import annotations

import subprocess
import sys

from tests.support.processes import ROOT, child_env


def test_safe_output_benchmark_runs_and_prints_its_figures():
    result = subprocess.run(
        [sys.executable, "-m", "bench.safe_output", "--tickets", "200", "--views", "5"],
        cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "mapping a ticket",
        "bounding an oversized ticket (1201 KB)",
        "rendering /bug show of 20 records",
        "40,000-char logfmt paste",
    ]
    assert "reply text" in lines[-1] and "block(s)" in lines[-1]
