"""Console mode driven as a user would: lines fed to `python -m bot`'s stdin with no Slack tokens."""

import re
import subprocess
from dataclasses import replace

import pytest

from bot.slack.status_board import StatusBoard
from storage.sqlite import SqliteStore
from tests.support.builders import zendesk_record
from tests.support.processes import child_env, run_entry_point, start_entry_point

pytestmark = pytest.mark.slow


def run_console(db_path, lines):
    return run_entry_point(
        "bot",
        cwd=db_path.parent,
        env=child_env(BUGTRACKER_DB=str(db_path)),
        input="\n".join(lines) + "\n",
        timeout=60,
    )


def test_post_show_link_show_again(tmp_path):
    db_path = tmp_path / "bugs.db"
    first = run_console(db_path, ["Search returns nothing priority=p1"])
    assert first.returncode == 0, first.stderr
    # the banner names the store and how to switch to Slack; the logs stay quiet (WARNING) unless asked
    out = first.stdout
    assert "Console mode on" in out and "SLACK_BOT_TOKEN" in out and str(db_path) in out
    assert first.stderr == ""
    # rendered for a terminal: no mrkdwn marks
    slack_id = re.search(r"Stored as (SL-[0-9.]+), priority High\.", first.stdout).group(1)

    second = run_console(
        db_path,
        [f"/bug show {slack_id}", f"/bug link {slack_id} ZD-4242", f"/bug show {slack_id}", "/bug nonsense"],
    )
    out = second.stdout
    assert out.count("Search returns nothing") == 2
    assert f"linked {slack_id} -> ZD-4242; moved 1 record(s)" in out
    assert f"{slack_id} was linked: {slack_id} -> ZD-4242" in out
    assert (
        "I do not know nonsense" in out and "Usage:" in out
    )  # rendered for a terminal: no marks and "Traceback" not in second.stderr


def test_a_taken_metrics_port_is_one_line_not_a_traceback(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = child_env(BUGTRACKER_DB=str(tmp_path / "bugs.db"), METRICS_PORT=str(port), LOG_LEVEL="WARNING")
        result = run_entry_point("bot", cwd=tmp_path, env=env, input="", timeout=60)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(port) in errors[0]


def test_status_changes_are_printed_as_text(tmp_path):
    db_path = tmp_path / "bugs.db"
    store = SqliteStore(db_path)
    store.init()
    store.upsert(zendesk_record(5, status="open", title="Checkout \x1b[31mred"))
    first = run_console(db_path, ["Checkout crashes priority=High"])
    slack_id = re.search(r"Stored as (SL-[0-9.]+)", first.stdout).group(1)

    linked = run_console(db_path, [f"/bug link {slack_id} ZD-5"])
    assert f"[status] {slack_id}: Status of ZD-5" in linked.stdout
    assert "Zendesk ZD-5: open (started), priority High" in linked.stdout

    # a pull made elsewhere (a `bugtracker sync` from cron) while the console was not running
    solved = zendesk_record(5, status="solved", updated=10)
    store.upsert(solved)
    StatusBoard(store).records_changed([replace(solved, ticket_id="ZD-5")])
    later = run_console(db_path, ["/bug help"])
    assert f"[status] {slack_id}: ZD-5 (Zendesk) is now done: solved" in later.stdout
    assert "\x1b" not in later.stdout and "Traceback" not in later.stderr
    again = run_console(db_path, ["/bug help"])
    assert "[status]" not in again.stdout  # told once


def test_no_tokens_and_no_terminal_is_one_line_and_an_exit(tmp_path):
    """A container or a platform's worker (stdin /dev/null) without the Slack variables: the bot names them
    and exits 3 at once instead of opening a console nobody can type into (and creates no store)."""
    db_path = tmp_path / "bugs.db"
    bot = start_entry_point(
        "bot", cwd=tmp_path, env=child_env(BUGTRACKER_DB=str(db_path)), stdin=subprocess.DEVNULL
    )
    out, err = bot.communicate(timeout=60)
    assert bot.returncode == 3, err
    assert out == "" and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no Slack tokens and no terminal"), err
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CHANNEL_ID"):
        assert name in lines[0]
    assert not db_path.exists()


def test_console_commands_are_never_stored_as_reports(tmp_path):
    db_path = tmp_path / "bugs.db"
    done = run_console(db_path, ["help", "/help", "/bugs show ZD-1", "/frobnicate", "Real bug here", "quit"])
    out = done.stdout
    assert done.returncode == 0 and done.stderr == ""
    assert out.count("exit, quit    leave") == 2  # help and /help: the console's help, with /bug's verbs
    assert "/bug list [priority P]" in out and "`" not in out.split("Real bug")[0]
    assert "unknown command /bugs; nothing was stored. Did you mean /bug?" in out
    assert "unknown command /frobnicate; nothing was stored." in out
    store = SqliteStore(db_path)
    stored = [r.title for r in store.list_records(source="slack").records]
    assert stored == ["Real bug here"]  # help, /help, the unknown commands and quit are not reports
    slack_id = f"SL-{store.list_records(source='slack').records[0].record_id}"
    deleted = run_console(db_path, [f"/bug delete {slack_id}", "exit", "never read"])
    assert f"Deleted {slack_id}" in deleted.stdout and "never read" not in deleted.stdout
    assert store.list_records(source="slack").records == ()


def test_log_file_keeps_the_logs_off_the_conversation(tmp_path):
    db_path, log_path = tmp_path / "bugs.db", tmp_path / "bot.log"
    done = run_entry_point(
        "bot",
        cwd=tmp_path,
        env=child_env(BUGTRACKER_DB=str(db_path), LOG_LEVEL="INFO", LOG_FILE=str(log_path)),
        input="Checkout crashes\nexit\n",
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == ""
    assert "Stored as SL-" in done.stdout and "INFO" not in done.stdout
    assert "mode: console" in log_path.read_text()
