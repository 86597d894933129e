"""`make clean` keeps the local store; `make clean-data` removes it (read with `make -n`, nothing is run)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.deploy_files import ROOT


def dry_run(target: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    result = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout


def test_clean_keeps_the_store_and_clean_data_removes_it():
    clean = dry_run("clean")
    assert "rm -rf" in clean and ".venv" in clean and "bugtracker.db" not in clean
    data = dry_run("clean-data")
    assert "bugtracker.db" in data and ".venv" not in data
