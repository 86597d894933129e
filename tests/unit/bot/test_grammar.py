"""One grammar for `/bug` and `bugtracker`: the same verbs, the same list filters, the same answers."""

from __future__ import annotations

import argparse
import re
from dataclasses import replace

import pytest

from bot import cli, grammar
from bot.slack import slash
from bot.slack.intake import Intake
from bot.slack.slash import CommandUsageError, dispatch, parse_command
from bot.tickets.link import operator

TS = "1732712345.000100"


def _cli_verbs() -> set[str]:
    parser = cli.build_parser()
    return set(next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices)


def test_both_sides_know_every_verb_named_for_them():
    assert set(slash.NAMES) == set(grammar.names(grammar.SLACK))
    assert _cli_verbs() == set(grammar.names(grammar.CLI))
    shared = set(grammar.names(grammar.SLACK))
    assert shared <= _cli_verbs()  # every `/bug` verb is a `bugtracker` verb too


@pytest.mark.parametrize(
    ("words", "filters"),
    [
        ("", {}),
        ("state In Progress", {"state": "In Progress"}),
        (
            "priority High state open source zendesk",
            {"priority": "High", "state": "open", "source": "zendesk"},
        ),
        ("--priority High --state=open", {"priority": "High", "state": "open"}),
        (
            "SOURCE slack since 2026-11-01 until 2026-11-30",
            {"source": "slack", "since": "2026-11-01", "until": "2026-11-30"},
        ),
    ],
)
def test_filters_as_words_or_options(words, filters):
    assert grammar.parse_filters(words.split()) == filters


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("priority", "`priority` needs a value"),
        ("stat open", "Did you mean `state`?"),
        ("state open state closed", "given twice"),
        ("High", "cannot list by .High."),
    ],
)
def test_filters_that_do_not_fit_say_why(words, message):
    with pytest.raises(grammar.GrammarError, match=message):
        grammar.parse_filters(words.split())


def test_an_unknown_verb_gets_the_closest_one():
    with pytest.raises(CommandUsageError, match="I do not know `shwo`. Did you mean `show`?"):
        parse_command("shwo ZD-1")
    assert "Did you mean" not in str(grammar.unknown_verb("zzzzzz", grammar.SLACK))


def _reports(store) -> None:
    intake = Intake(store)
    intake.ingest_message({"user": "U1", "text": "Login broken priority=High", "ts": TS}, "C0BUGS")
    intake.ingest_message({"user": "U2", "text": "Export slow", "ts": "1732712399.000100"}, "C0BUGS")


def test_list_alone_lists_and_state_reported_finds_slack_reports(sqlite_store):
    from tests.support.builders import zendesk_record

    _reports(sqlite_store)
    sqlite_store.upsert(zendesk_record(7))
    everything = dispatch(sqlite_store, "list", "U1").text
    assert f"SL-{TS}" in everything and "ZD-7" in everything
    reported = dispatch(sqlite_store, "list state reported", "U1").text
    assert f"SL-{TS}" in reported and "ZD-7" not in reported
    assert f"SL-{TS}" not in dispatch(sqlite_store, "list state reported source zendesk", "U1").text
    combined = dispatch(sqlite_store, "list --source slack priority High", "U1").text
    assert f"SL-{TS}" in combined and "SL-1732712399.000100" not in combined


def test_help_names_one_verb(sqlite_store):
    assert dispatch(sqlite_store, "help list", "U1").text.startswith("`/bug list [priority P]")
    assert "Did you mean `delete`?" in dispatch(sqlite_store, "help delet", "U1").text


def test_delete_is_for_the_author_or_a_linker(sqlite_store):
    _reports(sqlite_store)
    only_u9 = lambda user: replace(operator(user), linker=user == "U9", linkers_named=True)  # noqa: E731
    refused = dispatch(sqlite_store, f"delete SL-{TS}", "U2", actor_of=only_u9)
    assert "only the author" in refused.text
    assert sqlite_store.get_record("slack", TS).title == "Login broken"
    assert "Deleted" in dispatch(sqlite_store, f"delete SL-{TS}", "U1", actor_of=only_u9).text
    stored = sqlite_store.get_record("slack", TS)
    assert stored.deleted and not stored.title
    assert "is not a stored report" in dispatch(sqlite_store, f"delete SL-{TS}", "U1").text
    assert "Deleted" in dispatch(sqlite_store, "delete SL-1732712399.000100", "U9", actor_of=only_u9).text
    assert "only Slack reports" in dispatch(sqlite_store, "delete ZD-1", "U9").text


def test_bugtracker_alone_prints_a_short_usage_on_stderr(capsys):
    assert cli.execute([]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("usage: bugtracker") and len(err.splitlines()) <= 4


def test_bugtracker_unknown_verb_says_did_you_mean(capsys):
    assert cli.execute(["--db", "x.db", "lsit"]) == 2
    assert "Did you mean `list`?" in capsys.readouterr().err


def test_help_verb_and_completion(capsys):
    assert cli.execute(["help", "list"]) == 0
    assert "usage: bugtracker list" in capsys.readouterr().out
    assert cli.execute(["help", "lst"]) == 2
    assert "Did you mean `list`?" in capsys.readouterr().err
    for shell in ("bash", "zsh"):
        assert cli.execute(["completion", shell]) == 0
        script = capsys.readouterr().out
        assert "complete -F _bugtracker bugtracker" in script.replace("-o default ", "")
        assert "list) words=" in script and "state" in script.split("list) words=")[1].split("\n")[0]
    assert "bashcompinit" in script


def test_the_cli_takes_list_filters_as_words_and_delete(sqlite_store, monkeypatch, capsys):
    _reports(sqlite_store)
    monkeypatch.setenv("BUGTRACKER_DB", str(sqlite_store.path))
    assert cli.execute(["list", "state", "reported", "--utc"]) == 0
    out = capsys.readouterr().out
    assert f"SL-{TS}" in out and "created (UTC)" in out and "2024-11-27 12:59" in out
    assert cli.execute(["list", "state", "open", "--state", "open"]) == 2
    assert "given twice" in capsys.readouterr().err
    assert cli.execute(["delete", f"SL-{TS}"]) == 0
    assert capsys.readouterr().out.startswith(f"deleted SL-{TS}")
    assert cli.execute(["delete", f"SL-{TS}"]) == 1


def test_times_are_local_and_labelled(sqlite_store, monkeypatch, capsys):
    import time

    _reports(sqlite_store)
    monkeypatch.setenv("BUGTRACKER_DB", str(sqlite_store.path))
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert cli.execute(["list"]) == 0
        out = capsys.readouterr().out
        assert "created (JST)" in out and "2024-11-27 21:59" in out
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_stats_does_not_read_the_slack_settings(sqlite_store, monkeypatch, capsys):
    monkeypatch.setenv("BUGTRACKER_DB", str(sqlite_store.path))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-only-this-one")
    assert cli.execute(["stats"]) == 0


def test_malformed_values_are_usage_errors(sqlite_store, monkeypatch, capsys):
    monkeypatch.setenv("BUGTRACKER_DB", str(sqlite_store.path))
    assert cli.execute(["list", "--priority", "foo"]) == 2
    assert cli.execute(["list", "--source", "jira"]) == 2
    assert cli.execute(["show", "ZD-x"]) == 2
    assert cli.execute(["show", "ZD-404"]) == 1


def _ids(text: str) -> list[str]:
    return re.findall(r"^((?:SL|ZD|SC)-[0-9.]+)\s", text, re.MULTILINE)


@pytest.mark.parametrize(
    "words",
    [
        "list",
        "list state reported",
        "list source slack priority High",
        "list --source zendesk",
        "unlinked",
    ],
)
def test_the_same_words_get_the_same_rows_on_both_sides(sqlite_store, monkeypatch, capsys, words):
    from tests.support.builders import zendesk_record

    _reports(sqlite_store)
    sqlite_store.upsert(zendesk_record(7))
    monkeypatch.setenv("BUGTRACKER_DB", str(sqlite_store.path))
    slack_rows = _ids(dispatch(sqlite_store, words, "U1").text)
    assert cli.execute(words.split()) == 0
    assert _ids(capsys.readouterr().out) == slack_rows and slack_rows


def test_pages_and_deleted_are_written_the_same_way_on_both_sides(sqlite_store, monkeypatch, capsys):
    from tests.support.builders import zendesk_record

    for n in range(3):
        sqlite_store.upsert(zendesk_record(n + 1))
    sqlite_store.upsert(zendesk_record(9, deleted=True))
    monkeypatch.setenv("BUGTRACKER_DB", str(sqlite_store.path))
    assert cli.execute(["list", "source", "zendesk", "--limit", "2"]) == 0
    cursor = capsys.readouterr().out.rsplit("--cursor ", 1)[1].strip()
    assert cli.execute(["list", "source", "zendesk", "next", cursor]) == 0
    from_cli = _ids(capsys.readouterr().out)
    assert from_cli == _ids(dispatch(sqlite_store, f"list source zendesk --cursor {cursor}", "U1").text)
    assert cli.execute(["show", "ZD-9", "deleted"]) == 0
    assert "[deleted]" in capsys.readouterr().out
    assert "[deleted] Ticket 9" in dispatch(sqlite_store, "show ZD-9 --include-deleted", "U1").text
    assert cli.execute(["show", "ZD-9", "public"]) == 2
    assert "it is /bug's" in capsys.readouterr().err
