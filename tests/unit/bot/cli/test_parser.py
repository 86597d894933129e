"""The `bugtracker` command line as people type it: global options before or after the subcommand."""

from __future__ import annotations

import json

import pytest

from bot import cli


@pytest.mark.parametrize(
    ("argv", "as_json", "verbose"),
    [
        (["show", "ZD-1"], False, False),
        (["--json", "show", "ZD-1"], True, False),
        (["show", "ZD-1", "--json"], True, False),
        (["show", "--json", "ZD-1", "--include-deleted"], True, False),
        (["--json", "show", "ZD-1", "--verbose"], True, True),
        (["-v", "list", "--source", "slack", "--json"], True, True),
        (["stats", "-v"], False, True),
        (["sync", "--source", "zendesk", "--json"], True, False),
        (["sync", "--until-done", "-v"], False, True),
        (["recheck", "--source", "shortcut", "--json"], True, False),
        (["metrics", "--port", "0", "--json"], True, False),
    ],
)
def test_json_and_verbose_are_taken_before_and_after_the_subcommand(argv, as_json, verbose):
    args = cli.build_parser().parse_args(argv)
    assert (args.json, args.verbose) == (as_json, verbose)


def test_show_json_after_the_subcommand_prints_json(sqlite_store, monkeypatch, capsys):
    from tests.support.builders import zendesk_record

    sqlite_store.upsert(zendesk_record(5))
    monkeypatch.setenv("BUGTRACKER_DB", str(sqlite_store.path))
    assert cli.execute(["show", "ZD-5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ticket_id"] == "ZD-5"


def test_execute_runs_on_the_environment_and_ignores_a_dotenv_in_the_cwd(tmp_path, monkeypatch, capsys):
    (tmp_path / ".env").write_text(
        "DYNAMODB_TABLE=DevelopersTable\nAWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:9\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BUGTRACKER_DB", str(tmp_path / "bugs.db"))
    assert cli.execute(["init", "--json"]) == 0
    assert "embedded SQLite" in json.loads(capsys.readouterr().out)["store"]


def test_every_command_has_examples_in_its_help():
    parser = cli.build_parser()
    assert "examples:\n  bugtracker " in parser.format_help()
    commands = next(action for action in parser._actions if action.dest == "command").choices
    for name, command in commands.items():
        text = command.format_help()
        assert "\nexamples:\n  " in text, name
        assert f"bugtracker {name}" in text.split("examples:")[1], name


def test_db_before_or_after_the_subcommand():
    assert cli.build_parser().parse_args(["--db", "a.db", "stats"]).db == "a.db"
    assert cli.build_parser().parse_args(["stats", "--db", "b.db"]).db == "b.db"
    assert cli.build_parser().parse_args(["stats"]).db is None
