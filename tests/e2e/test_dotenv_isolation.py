"""A developer's `.env` steers the programs they run, never the test suite.

The proof runs tests that start the entry points (and the in-process CLI and config tests) in a copy of the
checkout whose root holds a hostile `.env`: Slack tokens, DYNAMODB_TABLE on a dead endpoint, LOG_LEVEL=DEBUG,
a taken METRICS_PORT. They must pass unchanged. The control: the same `.env` does steer `python -m bot`
started in that directory, as it should for a person (Slack mode, then one line: DynamoDB unreachable).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT, child_env

pytestmark = pytest.mark.slow

# The tests that spawn `python -m bot` / `bugtracker` / `python -m bot.cli`, and the in-process CLI + config.
ENTRY_POINT_TESTS = (
    "tests/e2e/slack/test_console.py",  # python -m bot: console mode, a taken METRICS_PORT
    "tests/e2e/cli/test_cli_output.py::test_json_after_the_subcommand",  # the bugtracker script
    # python -m bot.cli
    "tests/integration/bot/cli/test_store_commands.py::test_show_link_show_unlink_as_a_pm_would",
    "tests/unit/bot/cli",  # cli.execute in process
    "tests/unit/bot/test_config.py",  # load_config in process
)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def checkout_with_a_hostile_env_file(tmp_path):
    copy = tmp_path / "checkout"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".env")
    for name in ("bot", "storage", "adapters", "tests"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    dead = f"http://127.0.0.1:{_closed_port()}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        (copy / ".env").write_text(
            "SLACK_BOT_TOKEN=xoxb-" + "0" * 12 + "-" + "0" * 12 + "-developersrealtoken\n"  # fake, built
            "SLACK_APP_TOKEN=xapp-1-A0DEV-000000000000-developersrealapptoken\n"
            "SLACK_CHANNEL_ID=C0DEVCHANNEL\n"
            f"SLACK_API_URL={dead}/api/\n"
            "DYNAMODB_TABLE=DevelopersTable\n"
            f"AWS_ENDPOINT_URL_DYNAMODB={dead}\n"
            "AWS_MAX_ATTEMPTS=1\n"
            "BUGTRACKER_DB=/nonexistent/developers.db\n"
            f"METRICS_PORT={taken.getsockname()[1]}\n"
            "LOG_LEVEL=DEBUG\n"
        )
        yield copy


def _environment(copy) -> dict[str, str]:
    """What the developer's shell would give: no product variable, the copy importable before the checkout."""
    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join((str(copy), env["PYTHONPATH"]))
    return env


def test_the_entry_point_tests_pass_with_a_hostile_env_file_at_the_root(checkout_with_a_hostile_env_file):
    copy = checkout_with_a_hostile_env_file
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *ENTRY_POINT_TESTS],
        cwd=copy,
        env=_environment(copy),
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1] and "failed" not in result.stdout.splitlines()[-1]


def test_the_same_env_file_does_steer_the_bot_started_in_its_directory(checkout_with_a_hostile_env_file):
    copy = checkout_with_a_hostile_env_file
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=copy,
        env=_environment(copy),
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "error: cannot reach DynamoDB" in result.stderr and "DevelopersTable" not in result.stdout
    assert "developersrealtoken" not in result.stderr + result.stdout


def test_every_test_starts_the_entry_points_through_the_one_helper():
    """A test that spawns `python -m bot` / `bugtracker` itself could run it in the checkout (and its `.env`):
    only tests/support/processes.py may build those command lines."""
    spawns = re.compile(r"""sys\.executable,\s*"-m",\s*"bot|with_name\(\s*"bugtracker"\s*\)""")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if path.name != "processes.py" and path != Path(__file__) and spawns.search(path.read_text())
    ]
    assert offenders == [], "start entry points with tests.support.processes: " + ", ".join(offenders)
