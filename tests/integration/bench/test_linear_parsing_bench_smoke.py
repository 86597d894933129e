"""bench/linear_parsing.py at a tiny size, so it cannot rot unnoticed; the figures are not checked."""

from __future__ import annotations

import subprocess
import sys

from tests.support.adversarial import adversarial_inputs
from tests.support.processes import ROOT, child_env


def test_linear_parsing_benchmark_runs_and_prints_a_row_per_input():
    result = subprocess.run(
        [sys.executable, "-m", "bench.linear_parsing", "--size", "400", "--runs", "1"],
        cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[-4:] == ["words", "report", "ratio", "redact"]
    names = [line[:28].strip() for line in lines[1:-1]]
    assert names == ["plain paste", *adversarial_inputs(400)]
    assert lines[-1].startswith("worst: ")
