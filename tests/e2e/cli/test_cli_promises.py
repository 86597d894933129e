"""What `bugtracker` promises as a process: it never creates a store by accident and says which store it
read, `--version`, a closed pipe is a quiet success, progress goes to the terminal on stderr only, and
`--json` is JSON alone on stdout."""

from __future__ import annotations

import json
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from storage.sqlite import SqliteStore
from tests.support.builders import shortcut_record, slack_record, zendesk_record
from tests.support.processes import (
    BUGTRACKER,
    ROOT,
    child_env,
    run_entry_point,
    run_with_terminal_stderr,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def filled_db(tmp_path):
    path = tmp_path / "bugs.db"
    store = SqliteStore(path)
    store.upsert_many([zendesk_record(n, status="solved") for n in range(1, 301)])
    store.upsert_many([shortcut_record(1000), slack_record(2000)])
    store.close()
    return path


def test_a_missing_store_is_one_line_naming_it_and_is_not_created(tmp_path):
    elsewhere = tmp_path / "not-the-checkout"
    elsewhere.mkdir()
    for args in (("show", "ZD-12345"), ("list",), ("stats", "--recount"), ("migrate", "--json")):
        result = run_entry_point("bugtracker", *args, cwd=elsewhere, env=child_env())
        assert result.returncode == 3, (args, result.stderr)
        assert result.stdout == ""
        assert result.stderr == (
            f"error: no SQLite store at {elsewhere / 'bugtracker.db'}; create one there with `bugtracker"
            " init`, or choose another file with --db PATH or BUGTRACKER_DB (or DYNAMODB_TABLE for"
            " DynamoDB)\n"
        )
    assert list(elsewhere.iterdir()) == []


def test_init_creates_it_and_nothing_found_names_the_store(tmp_path):
    created = run_entry_point("bugtracker", "init", cwd=tmp_path, env=child_env())
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "bugtracker.db").exists()
    shown = run_entry_point("bugtracker", "show", "ZD-12345", cwd=tmp_path, env=child_env())
    assert shown.returncode == 1
    where = f"embedded SQLite store at {tmp_path / 'bugtracker.db'}"
    assert shown.stderr == f"error: nothing is stored under ZD-12345 (looked in the {where})\n"
    linked = run_entry_point("bugtracker", "link", "ZD-3", "ZD-4", cwd=tmp_path, env=child_env())
    assert linked.returncode == 1
    assert (
        linked.stderr == "error: ZD-3 is not a ticket or report you can see here; nothing changed"
        f" (looked in the {where})\n"
    )
    listed = run_entry_point("bugtracker", "list", "--state", "Solved", cwd=tmp_path, env=child_env())
    assert listed.returncode == 0
    assert listed.stdout == f"no bugs match state Solved in the {where}; no bug has any state yet\n"


def test_db_chooses_the_file_over_the_environment(tmp_path, filled_db):
    env = child_env(BUGTRACKER_DB=str(tmp_path / "other.db"), DYNAMODB_TABLE="BugTracker")
    result = run_entry_point("bugtracker", "--db", str(filled_db), "show", "zd-7", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Ticket 7" in result.stdout
    after = run_entry_point("bugtracker", "show", "ZD-7", "--db", str(filled_db), cwd=tmp_path, env=env)
    assert after.stdout == result.stdout


def test_version_is_the_installed_package_version(tmp_path):
    result = run_entry_point("bugtracker", "--version", cwd=tmp_path, env=child_env())
    assert result.returncode == 0
    assert result.stdout == f"bugtracker {metadata.version('unified-bugtracker')}\n"


def test_a_pipe_closed_by_head_is_a_quiet_success(tmp_path, filled_db):
    """`bugtracker list | head -1` under `set -o pipefail`: the pipeline succeeds and prints one line."""
    pipeline = f"set -o pipefail; '{BUGTRACKER}' --db '{filled_db}' list --limit 500 | head -1"
    done = subprocess.run(
        ["bash", "-c", pipeline],
        cwd=tmp_path,
        env=child_env(TZ="UTC"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.split() == ["ticket", "source", "priority", "state", "created", "(UTC)", "title"]


@pytest.mark.parametrize("command", [("stats", "--recount"), ("migrate",)])
def test_progress_on_a_terminal_and_pure_json_on_stdout(tmp_path, filled_db, command):
    code, stdout, terminal = run_with_terminal_stderr(
        "bugtracker", "--db", str(filled_db), *command, "--json", cwd=tmp_path, env=child_env()
    )
    assert code == 0, terminal
    json.loads(stdout)  # JSON alone
    assert "302/302" in terminal and "records" in terminal  # tqdm's bar: read / expected
    piped = run_entry_point(
        "bugtracker", "--db", str(filled_db), *command, "--json", cwd=tmp_path, env=child_env()
    )
    assert json.loads(piped.stdout) == json.loads(stdout)
    assert "302/302" not in piped.stderr and "\r" not in piped.stderr  # no bar off a terminal


def test_sync_shows_its_bar_on_a_terminal_and_its_json_alone_on_stdout(tmp_path):
    from tests.fakes.zendesk import FakeZendesk

    db = tmp_path / "bugs.db"
    SqliteStore(db).init()
    with FakeZendesk() as fake:
        fake.add_tickets(120)
        env = child_env(
            ZENDESK_SUBDOMAIN=fake.subdomain,
            ZENDESK_EMAIL=fake.email,
            ZENDESK_API_TOKEN=fake.token,
            ZENPY_FORCE_SCHEME="http",
            ZENPY_FORCE_NETLOC=fake.netloc,
            BUGTRACKER_DB=str(db),
        )
        code, stdout, terminal = run_with_terminal_stderr(
            "bugtracker", "sync", "--json", cwd=tmp_path, env=env
        )
    assert code == 0, terminal
    assert json.loads(stdout)[0]["inserted"] == 120
    assert "backfill zendesk" in terminal and "120 records" in terminal


def _readme_sessions() -> list[tuple[str, str]]:
    """Every `$ … bugtracker …` line of README.md and docs/*.md, with the line shown after it."""
    sessions = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        lines = page.read_text().splitlines()
        sessions += [
            (line[2:], lines[n + 1])
            for n, line in enumerate(lines)
            if line.startswith("$ ") and "bugtracker" in line
        ]
    return sessions


def test_the_readme_examples_run_as_written(tmp_path):
    """In a shell with nothing set but PATH and HOME, in the README's /home/ann/bugtracker: a store holding a
    solved ticket."""
    sessions = _readme_sessions()
    assert len(sessions) >= 4 and any("127.0.0.1:9" in command for command, _ in sessions)
    store = SqliteStore(tmp_path / "bugtracker.db")
    store.upsert(zendesk_record(1, status="solved"))
    store.close()
    shell_env = {"PATH": f"{Path(BUGTRACKER).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    for command, shown in sessions:
        done = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=shell_env, capture_output=True, text=True, timeout=120
        )
        expected = shown.replace("/home/ann/bugtracker", str(tmp_path))
        assert (done.stdout + done.stderr).rstrip("\n") == expected, command
