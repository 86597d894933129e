"""checkov over terraform/ and deploy/terraform/ passes (skips are justified inline), and would fail on a
real misconfiguration.

checkov lives in its own virtualenv (.venv-checkov, made by `make checkov`) because it pins many packages
that clash with the app's. --skip-download keeps it offline: no guideline or policy fetches from Prisma Cloud.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
TERRAFORM_DIR = ROOT / "terraform"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkov() -> Path:
    if not CHECKOV.exists():
        message = f"{CHECKOV.relative_to(ROOT)} is missing; run `make checkov` (make test does it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: checkov must run in CI")
        pytest.skip(message)
    return CHECKOV


def run_checkov(checkov: Path, directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(checkov),
            "-d",
            str(directory),
            "--framework",
            "terraform",
            "--quiet",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize("directory", [TERRAFORM_DIR, ROOT / "deploy" / "terraform"], ids=["table", "ecs"])
def test_checkov_passes_on_terraform(checkov, directory):
    result = run_checkov(checkov, directory)

    assert result.returncode == 0, f"checkov failed:\n{result.stdout}\n{result.stderr}"
    assert "Passed checks" in result.stdout, result.stdout  # it really scanned something


def test_checkov_fails_when_point_in_time_recovery_is_off(checkov, tmp_path):
    drifted = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR, drifted, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    main_tf = drifted / "main.tf"
    source = main_tf.read_text()
    pitr_on = "point_in_time_recovery {\n    enabled = true"
    assert pitr_on in source, "fixture out of date: main.tf no longer enables point-in-time recovery this way"
    main_tf.write_text(source.replace(pitr_on, "point_in_time_recovery {\n    enabled = false"))

    result = run_checkov(checkov, drifted)

    assert result.returncode != 0, result.stdout
    assert "CKV_AWS_28" in result.stdout, result.stdout
