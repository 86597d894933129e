"""The `bugtracker` command as a PM runs it: a real process, on SQLite and on moto's server over HTTP."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from storage.sqlite import SqliteStore
from tests.support.builders import slack_record, zendesk_record
from tests.support.processes import child_env, run_entry_point


@pytest.fixture
def cli(tmp_path):
    """Runs `python -m bot.cli ARGS` with exactly the given environment, in the test's own directory."""

    def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
        return run_entry_point("bot.cli", *args, cwd=tmp_path, env=env)

    return run


@pytest.fixture
def sqlite_env(tmp_path):
    env = child_env(BUGTRACKER_DB=str(tmp_path / "bugs.db"))
    store = SqliteStore(env["BUGTRACKER_DB"])
    store.upsert_many(
        [slack_record(1, priority="High", priority_raw="high"), zendesk_record(5), zendesk_record(6)]
    )
    store.close()
    return env


def test_show_link_show_unlink_as_a_pm_would(cli, sqlite_env):
    sl = slack_record(1).home_id
    shown = cli(sqlite_env, "show", sl)
    assert shown.returncode == 0, shown.stderr
    assert "checkout button broken" in shown.stdout
    linked = cli(sqlite_env, "link", sl, "zd-5", "--actor", "pm-ann")
    assert linked.returncode == 0, linked.stderr
    assert f"linked {sl} -> ZD-5; moved 1 record(s): slack#" in linked.stdout
    again = cli(sqlite_env, "show", sl)
    assert f"{sl} was linked: {sl} -> ZD-5" in again.stdout
    assert "pm-ann linked" in again.stdout and "zendesk" in again.stdout
    as_json = json.loads(cli(sqlite_env, "--json", "show", "ZD-5").stdout)
    assert {r["source_system"] for r in as_json["records"]} == {"slack", "zendesk"}
    undone = cli(sqlite_env, "unlink", sl)
    assert undone.returncode == 0 and "unlinked" in undone.stdout
    assert json.loads(cli(sqlite_env, "--json", "show", sl).stdout)["ticket_id"] == sl


def test_show_of_a_ticket_deleted_upstream_says_so_and_how_to_see_it(cli, sqlite_env):
    store = SqliteStore(sqlite_env["BUGTRACKER_DB"])
    store.upsert(zendesk_record(6, updated=10, status="deleted"))
    store.close()
    shown = cli(sqlite_env, "show", "ZD-6")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "ZD-6: 1 record deleted upstream; add --include-deleted to see it"
    assert "0 record(s)" not in shown.stdout
    everything = cli(sqlite_env, "show", "ZD-6", "--include-deleted")
    assert everything.stdout.splitlines()[0] == "ZD-6: 1 record(s)"
    assert "[deleted] Ticket 6" in everything.stdout
    assert json.loads(cli(sqlite_env, "--json", "show", "ZD-6").stdout)["hidden_deleted"] == 1


def test_lists_and_stats(cli, sqlite_env):
    rows = json.loads(cli(sqlite_env, "--json", "list", "--priority", "p1").stdout)["records"]
    assert sorted(r["record_id"] for r in rows) == sorted(["5", "6", slack_record(1).record_id])
    page = cli(sqlite_env, "list", "--source", "zendesk", "--limit", "1")
    assert "more: --cursor " in page.stdout
    cursor = page.stdout.split("--cursor ")[1].strip()
    second = json.loads(
        cli(sqlite_env, "--json", "list", "--source", "zendesk", "--limit", "1", "--cursor", cursor).stdout
    )
    assert [r["record_id"] for r in second["records"]] == ["5"] and second["next_cursor"] is None
    unlinked = json.loads(cli(sqlite_env, "--json", "unlinked").stdout)["records"]
    assert [r["source_system"] for r in unlinked] == ["slack"]
    stats = json.loads(cli(sqlite_env, "--json", "stats").stdout)
    assert stats["by_source"] == {"slack": 1, "zendesk": 2} and stats["slack_unlinked"] == 1
    assert "priority" in cli(sqlite_env, "stats").stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("show", "JIRA-9"), 2, "'JIRA-9' is not a ticket id; use ZD-<digits>"),
        (("show", "ZD-404"), 1, "nothing is stored under ZD-404"),
        (("link", "ZD-5", "ZD-5"), 1, "cannot link ZD-5 to itself"),
        (("unlink", "ZD-5"), 1, "ZD-5 is not linked"),
        (("list", "--priority", "asap"), 2, "'asap' is not a priority"),
        (("list", "--source", "jira"), 2, "unknown source 'jira'"),
        (("list", "--state", "open", "--since", "yesterday"), 2, "--since needs a date"),
        (("list", "--source", "slack", "--cursor", "garbage!"), 1, "cursor"),
    ],
)
def test_wrong_input_is_one_line_and_a_meaningful_exit_code(cli, sqlite_env, args, code, message):
    result = cli(sqlite_env, *args)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_variable_or_missing_subcommand(cli, sqlite_env):
    bad = cli({**sqlite_env, "SYNC_INTERVAL_SECONDS": "soon"}, "stats")
    assert bad.returncode == 3 and "SYNC_INTERVAL_SECONDS is malformed" in bad.stderr
    assert cli(sqlite_env).returncode == 2


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_database_is_one_readable_line(cli, sqlite_env):
    env = {
        **sqlite_env,
        "DYNAMODB_TABLE": "BugTracker",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{_closed_port()}",
        "AWS_MAX_ATTEMPTS": "1",
    }
    result = cli(env, "show", "ZD-1")
    assert result.returncode == 3
    assert result.stderr.strip().startswith("error: cannot reach DynamoDB")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("dropped", "message"),
    [
        (("AWS_REGION", "AWS_DEFAULT_REGION"), "error: no AWS region set: set AWS_REGION"),
        (("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), "error: no AWS credentials found"),
    ],
)
def test_missing_aws_settings_are_one_readable_line(cli, sqlite_env, tmp_path, dropped, message):
    env = {k: v for k, v in sqlite_env.items() if k not in dropped}
    env.update(DYNAMODB_TABLE="BugTracker", AWS_ENDPOINT_URL_DYNAMODB=f"http://127.0.0.1:{_closed_port()}")
    env.update(
        AWS_MAX_ATTEMPTS="1",
        HOME=str(tmp_path),
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
    )
    result = cli(env, "stats")
    assert result.returncode == 3
    assert result.stderr.strip() == message or result.stderr.strip().startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_init_refuses_to_create_the_table_on_aws(cli, sqlite_env):
    result = cli({**sqlite_env, "DYNAMODB_TABLE": "BugTracker"}, "init")
    assert result.returncode == 2 and "terraform" in result.stderr


def test_the_same_commands_on_dynamodb_over_http(cli, sqlite_env, moto_endpoint_env):
    env = {**moto_endpoint_env, "LOG_LEVEL": "INFO"}
    created = cli(env, "init")
    assert created.returncode == 0, created.stderr
    assert f"DynamoDB table '{env['DYNAMODB_TABLE']}' at {env['AWS_ENDPOINT_URL_DYNAMODB']}" in created.stderr
    import boto3

    from storage.dynamodb import DynamoDBStore

    store = DynamoDBStore(boto3.client("dynamodb"), env["DYNAMODB_TABLE"])
    store.upsert_many([slack_record(1), zendesk_record(5)])
    sl = slack_record(1).home_id
    assert cli(env, "link", sl, "ZD-5").returncode == 0
    view = json.loads(cli(env, "--json", "show", sl).stdout)
    assert view["ticket_id"] == "ZD-5" and len(view["records"]) == 2
    assert json.loads(cli(env, "--json", "stats").stdout)["slack_linked"] == 1


def test_ids_with_leading_zeros_and_init_moves_records_stored_under_them(cli, sqlite_env):
    shown = json.loads(cli(sqlite_env, "show", "zd-0005", "--json").stdout)
    assert (shown["requested_id"], shown["ticket_id"]) == ("ZD-5", "ZD-5")
    sl = slack_record(1).home_id
    # what an older version wrote for `ticketId=ZD-0006`: the report under ZD-0006, beside the synced ZD-6
    store = SqliteStore(sqlite_env["BUGTRACKER_DB"])
    with store.transaction():
        store._link(sl, "ZD-0006", "old-version")
    store.close()
    split = json.loads(cli(sqlite_env, "show", "ZD-6", "--json").stdout)
    assert [r["source_system"] for r in split["records"]] == ["zendesk"]  # the report is not found here
    migrated = cli(sqlite_env, "init")
    assert migrated.returncode == 0, migrated.stderr
    assert "moved 1 record(s) from ZD-0006 to ZD-6" in migrated.stdout
    view = json.loads(cli(sqlite_env, "show", "ZD-06", "--json").stdout)
    assert view["ticket_id"] == "ZD-6" and len(view["records"]) == 2
    again = cli(sqlite_env, "init", "--ids-only")
    assert again.returncode == 0 and "moved" not in again.stdout


def test_stats_recount_reports_drift_and_corrects_it(cli, sqlite_env):
    store = SqliteStore(sqlite_env["BUGTRACKER_DB"])
    store.adjust_counters({"total": 2, "source:zendesk": 2})  # as a killed batch would leave them
    store.close()
    assert json.loads(cli(sqlite_env, "--json", "stats").stdout)["total"] == 5
    recount = cli(sqlite_env, "stats", "--recount")
    assert recount.returncode == 0, recount.stderr
    lines = recount.stdout.splitlines()
    assert lines[:3] == [
        "recount: 2 counter(s) were off and are corrected (recounted - kept):",
        "  source:zendesk: -2",
        "  total: -2",
    ]
    again = json.loads(cli(sqlite_env, "--json", "stats", "--recount").stdout)
    assert again["drift"] == {} and again["counts"]["total"] == 3


def test_migrate_on_sqlite_is_a_recount_and_idempotent(cli, sqlite_env):
    first = cli(sqlite_env, "migrate")
    assert first.returncode == 0, first.stderr
    # the steps are progress on stderr; stdout is the answer alone
    assert "counters set (0 counter(s) corrected)" in first.stderr
    assert first.stdout.startswith("migrated: embedded SQLite")
    assert cli(sqlite_env, "migrate").returncode == 0
