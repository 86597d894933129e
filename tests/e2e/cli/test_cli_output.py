"""What `bugtracker` prints, as a real process: its answer or one error line, no library chatter unless
asked for (--verbose, LOG_LEVEL); `--json` after the subcommand as well as before it."""

from __future__ import annotations

import json
import socket

import pytest

from storage.sqlite import SqliteStore
from tests.support.builders import zendesk_record
from tests.support.processes import child_env, run_entry_point, start_entry_point

pytestmark = pytest.mark.slow


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dead_endpoint_env() -> dict[str, str]:
    return child_env(
        DYNAMODB_TABLE="BugTracker", AWS_ENDPOINT_URL_DYNAMODB=f"http://127.0.0.1:{_closed_port()}"
    )


def test_a_dead_endpoint_is_exactly_one_line_on_stderr_and_exit_3(tmp_path, dead_endpoint_env):
    result = run_entry_point("bugtracker", "show", "ZD-1", cwd=tmp_path, env=dead_endpoint_env)
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("error: cannot reach DynamoDB")


@pytest.mark.parametrize(
    ("args", "variables"),
    [
        (("show", "ZD-1", "--verbose"), {}),
        (("-v", "show", "ZD-1"), {}),
        (("show", "ZD-1"), {"LOG_LEVEL": "INFO"}),
    ],
)
def test_verbose_or_log_level_brings_the_library_logs_back(tmp_path, dead_endpoint_env, args, variables):
    env = {**dead_endpoint_env, **variables, "AWS_MAX_ATTEMPTS": "1"}
    result = run_entry_point("bugtracker", *args, cwd=tmp_path, env=env)
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert any(" INFO botocore." in line for line in lines), result.stderr
    assert any(" INFO bot.bootstrap: store: DynamoDB table 'BugTracker'" in line for line in lines)
    assert lines[-1].startswith("error: cannot reach DynamoDB")


def test_json_after_the_subcommand(tmp_path):
    store = SqliteStore(tmp_path / "bugs.db")
    store.upsert(zendesk_record(5))
    store.close()
    env = child_env(BUGTRACKER_DB=str(tmp_path / "bugs.db"))
    after = run_entry_point("bugtracker", "show", "ZD-5", "--json", cwd=tmp_path, env=env)
    before = run_entry_point("bugtracker", "--json", "show", "ZD-5", cwd=tmp_path, env=env)
    assert after.returncode == 0 and after.stderr == ""
    assert json.loads(after.stdout) == json.loads(before.stdout)
    assert json.loads(after.stdout)["ticket_id"] == "ZD-5"


def test_a_reader_that_goes_away_is_no_traceback(tmp_path):
    """`bugtracker show ZD-5 | head -2`: the pipe closes before the answer is written. The reader has what
    it wanted: exit 0, as `git log | head` does (a pipeline under `set -o pipefail` does not fail)."""
    store = SqliteStore(tmp_path / "bugs.db")
    store.upsert(zendesk_record(5))
    store.close()
    env = child_env(BUGTRACKER_DB=str(tmp_path / "bugs.db"))
    process = start_entry_point("bugtracker", "show", "ZD-5", cwd=tmp_path, env=env)
    process.stdout.close()  # long before the process has started, let alone printed
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == 0
    assert stderr == ""
