"""Both Terraform roots are in `terraform fmt`'s canonical layout (offline: fmt needs no provider). Skipped
where terraform is not installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    "directory", [ROOT / "terraform", ROOT / "deploy" / "terraform"], ids=["table", "ecs"]
)
def test_terraform_fmt_leaves_them_as_they_are(directory: Path, tmp_path: Path) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TF_CLI_CONFIG_FILE": "/dev/null"}
    done = subprocess.run(
        [terraform, "fmt", "-check", "-diff", str(directory)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
