"""The README's "Use it from Python" example, run as written against a temporary SQLite store, and the calls
it documents: open_store (`.env` of the current directory) and the get_bug(s)_by_* generators."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from storage.errors import BugTrackerError
from storage.sqlite import SqliteStore
from tests.support.builders import shortcut_record, slack_record, zendesk_record
from tests.support.processes import child_env

ROOT = Path(__file__).resolve().parents[3]


def readme_python_example() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Use it from Python", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    return code


def _fill(path: Path) -> None:
    store = SqliteStore(path)
    store.upsert_many(
        [
            zendesk_record(12345, priority="High", title="Checkout crashes"),
            slack_record(1, priority="High", text="checkout crash on iOS"),
            slack_record(2, text="typo on the pricing page"),
            shortcut_record(7, state="Ready for QA", title="Fix checkout"),
            zendesk_record(99, status="deleted"),
        ]
    )
    store.link(slack_record(1).home_id, "ZD-12345", actor="U1")
    store.close()


@pytest.fixture
def script_env(tmp_path) -> dict[str, str]:
    """A process environment with no store settings of the developer's, and the store in tmp_path."""
    env = child_env(BUGTRACKER_DB=str(tmp_path / "bugs.db"))
    _fill(tmp_path / "bugs.db")
    return env


def test_the_readme_example_runs_as_written(script_env, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", readme_python_example()],
        cwd=tmp_path,
        env=script_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "ZD-12345 zendesk open Checkout crashes" in lines
    assert "ZD-12345 slack None checkout crash on iOS" in lines
    assert [line for line in lines if line.startswith("High:")] == [
        "High: ZD-12345 Checkout crashes",  # newest first; the deleted ZD-99 is left out
        "High: ZD-12345 checkout crash on iOS",
    ]
    assert "Ready for QA: SC-7" in lines
    assert "from Slack: 2" in lines


def test_open_store_reads_the_dotenv_of_the_current_directory(tmp_path, monkeypatch):
    from bot.bootstrap import open_store

    project = tmp_path / "project"
    project.mkdir()
    _fill(tmp_path / "from-dotenv.db")
    (project / ".env").write_text(f"BUGTRACKER_DB={tmp_path / 'from-dotenv.db'}\n")
    for name in ("DYNAMODB_TABLE", "BUGTRACKER_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(project)
    store = open_store()
    try:
        assert store.path == str(tmp_path / "from-dotenv.db")
        assert len(store.get_bug_by_ticket_id("zd-12345").records) == 2
    finally:
        store.close()


def test_open_store_of_an_unreachable_table_is_one_readable_error(tmp_path, monkeypatch):
    from bot.bootstrap import open_store

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DYNAMODB_TABLE", "BugTracker")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(BugTrackerError, match="cannot reach DynamoDB"):
        open_store()


def test_the_generators_read_every_page_lazily(sqlite_store, monkeypatch):
    sqlite_store.upsert_many([zendesk_record(n, priority="Low") for n in range(1, 451)])
    pages = []
    real = sqlite_store.list_records
    monkeypatch.setattr(sqlite_store, "list_records", lambda **kw: pages.append(kw) or real(**kw))
    bugs = sqlite_store.get_bugs_by_priority("low")  # a synonym's case does not matter
    assert pages == []  # nothing read until iterated
    first = next(bugs)
    assert first.record_id == "450" and len(pages) == 1
    rest = list(bugs)
    assert len(rest) == 449 and len({bug.record_id for bug in rest}) == 449
    assert len(pages) == 3 and all(page["priority"] == "Low" for page in pages)
    assert [bug.record_id for bug in sqlite_store.get_bugs_by_source("Zendesk")][:2] == ["450", "449"]
    assert list(sqlite_store.get_bugs_by_state("solved")) == []


def test_a_bad_filter_is_refused_when_called_not_when_iterated(store):
    with pytest.raises(BugTrackerError, match="unknown source"):
        store.get_bugs_by_source("jira")
    with pytest.raises(BugTrackerError, match="not a priority"):
        store.get_bugs_by_priority("whenever")


def test_the_readme_example_runs_as_written_on_a_fresh_store(tmp_path):
    """A newcomer runs it before anything is stored: an answer per line, not a TicketNotFound traceback."""
    fresh = SqliteStore(tmp_path / "empty.db")
    fresh.init()  # as `bugtracker init` does: open_store() opens a store, it does not create one
    fresh.close()
    done = subprocess.run(
        [sys.executable, "-c", readme_python_example()],
        cwd=tmp_path,
        env=child_env(BUGTRACKER_DB=str(tmp_path / "empty.db")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "nothing is stored under ZD-12345",
        "Ready for QA: ",
        "from Slack: 0",
    ]
