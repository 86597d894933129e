"""`bugtracker list` reads filters, limits and cursors with the same checks as /bug and the API."""

from __future__ import annotations

import json

import pytest

from storage.sqlite import SqliteStore
from tests.support.builders import slack_record, zendesk_record
from tests.support.processes import child_env, run_entry_point


@pytest.fixture
def env(tmp_path):
    env = child_env(BUGTRACKER_DB=str(tmp_path / "bugs.db"))
    store = SqliteStore(env["BUGTRACKER_DB"])
    store.upsert_many([slack_record(1), slack_record(2), zendesk_record(5)])
    store.close()
    return env


def test_list_by_source_in_any_case(env, tmp_path):
    result = run_entry_point("bot.cli", "list", "--source", "Slack", cwd=tmp_path, env=env)
    assert result.returncode == 0 and result.stdout.count("SL-") == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--cursor", "MQ"), 1, "page cursor is not one this store gave out"),
        (("--limit", "²"), 2, "limit must be a whole number from 1 to 500"),
        (("--limit", "٣"), 2, "limit must be a whole number"),
        (("--since", "9999-12-31T23:59:59-01:00"), 2, "--since needs a date"),
    ],
)
def test_bad_list_input_is_one_line(env, tmp_path, args, code, message):
    result = run_entry_point("bot.cli", "list", "--source", "slack", *args, cwd=tmp_path, env=env)
    assert result.returncode == code and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def _run(monkeypatch, capsys, db, *argv: str) -> tuple[int, str]:
    from bot import cli

    monkeypatch.setenv("BUGTRACKER_DB", db)
    code = cli.execute(list(argv))
    return code, capsys.readouterr().out


def test_list_without_a_filter_lists_everything_and_filters_combine(env, monkeypatch, capsys):
    db = env["BUGTRACKER_DB"]
    store = SqliteStore(db)
    store.upsert(zendesk_record(7, status="solved", priority="Low"))
    store.close()
    code, out = _run(monkeypatch, capsys, db, "--json", "list")
    assert code == 0 and len(json.loads(out)["records"]) == 4
    code, out = _run(monkeypatch, capsys, db, "--json", "list", "--state", "SOLVED", "--source", "Zendesk")
    assert [r["record_id"] for r in json.loads(out)["records"]] == ["7"]
    code, out = _run(monkeypatch, capsys, db, "--json", "list", "--state", "solved", "--priority", "High")
    assert json.loads(out) == {"records": [], "next_cursor": None}  # --json: JSON, even when empty


def test_no_match_names_the_store_and_the_closest_values(env, monkeypatch, capsys):
    code, out = _run(monkeypatch, capsys, env["BUGTRACKER_DB"], "list", "--state", "opn", "--source", "slack")
    assert code == 0
    assert out.startswith("no bugs match state opn, source slack in the embedded SQLite store at ")
    assert out.rstrip().endswith("no bug has state 'opn'; closest: open")


def test_stored_names_in_a_no_match_answer_are_plain_bounded_text(env, monkeypatch, capsys):
    """State names are Shortcut's workflow names, outside text: no escapes, one line, bounded."""
    from tests.support.builders import shortcut_record

    store = SqliteStore(env["BUGTRACKER_DB"])
    store.upsert_many(
        [shortcut_record(8, state="\x1b[2JDone\nfor\u202e"), shortcut_record(9, state="Q" * 300)]
    )
    store.close()
    code, out = _run(monkeypatch, capsys, env["BUGTRACKER_DB"], "list", "--state", "done fo")
    assert code == 0 and out.endswith("no bug has state 'done fo'; closest: [2JDone for\n")
    code, out = _run(monkeypatch, capsys, env["BUGTRACKER_DB"], "list", "--state", "zzz")
    assert "QQQ…" in out and "Q" * 40 not in out and out.count("\n") == 1
