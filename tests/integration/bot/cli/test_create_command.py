"""`bugtracker create` and `bugtracker link` as a PM runs them: a real process against the fake Shortcut and
Zendesk over HTTP."""

from __future__ import annotations

import json

import pytest

from storage.sqlite import SqliteStore
from tests.fakes.shortcut import FakeShortcut
from tests.fakes.zendesk import FakeZendesk
from tests.support.builders import slack_record
from tests.support.processes import child_env, run_entry_point


@pytest.fixture
def world(tmp_path):
    with FakeShortcut() as shortcut, FakeZendesk() as zendesk:
        env = child_env(
            BUGTRACKER_DB=str(tmp_path / "bugs.db"),
            SHORTCUT_API_TOKEN=shortcut.token,
            SHORTCUT_API_URL=shortcut.api_url,
            ZENDESK_SUBDOMAIN=zendesk.subdomain,
            ZENDESK_EMAIL=zendesk.email,
            ZENDESK_API_TOKEN=zendesk.token,
            ZENPY_FORCE_SCHEME="http",
            ZENPY_FORCE_NETLOC=zendesk.netloc,
        )
        store = SqliteStore(env["BUGTRACKER_DB"])
        store.upsert_many([slack_record(1, priority="Critical", priority_raw="p0"), slack_record(2)])
        store.close()

        def cli(*args: str, **more: str):
            return run_entry_point("bot.cli", *args, cwd=tmp_path, env={**env, **more})

        yield cli, shortcut, zendesk


def test_create_makes_the_ticket_and_the_report_lives_under_it(world):
    cli, shortcut, zendesk = world
    report = slack_record(1).home_id
    made = cli("create", "zendesk", report, "--type", "incident")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == (
        "Created ZD-5001 in Zendesk: https://acme.zendesk.com/agent/tickets/5001"
        " — this report now lives under ZD-5001"
    )
    ticket = zendesk.posts("/tickets.json")[0]["ticket"]
    assert ticket["priority"] == "urgent" and ticket["type"] == "incident"
    shown = json.loads(cli("--json", "show", report).stdout)
    assert shown["ticket_id"] == "ZD-5001"
    again = cli("create", "shortcut", report)
    assert again.returncode == 1 and "already lives under ZD-5001; nothing was created" in again.stderr
    assert shortcut.posts("/stories") == []
    story = json.loads(cli("create", "shortcut", slack_record(2).home_id, "--json").stdout)
    assert story["ticket"] == "SC-9001" and story["url"] == "https://app.shortcut.com/acme/story/9001"


def test_create_refusals_are_one_line(world):
    cli, shortcut, _ = world
    report = slack_record(1).home_id
    off = cli("create", "shortcut", report, BUG_CREATE="off")
    assert off.returncode == 3 and off.stderr.strip() == (  # a setting: configuration's exit code
        "error: creating tickets from reports is switched off here (BUG_CREATE=off)"
    )
    shortcut.read_only = True
    refused = cli("create", "shortcut", report)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "Member, Admin or Owner role" in refused.stderr and shortcut.token not in refused.stderr
    assert json.loads(cli("--json", "show", report).stdout)["ticket_id"] == report


def test_link_reads_an_unseen_ticket_and_refuses_a_typo(world):
    cli, _, zendesk = world
    zendesk.add_ticket(4321, subject="Made by hand a minute ago")
    report = slack_record(1).home_id
    typo = cli("link", report, "ZD-4312")
    assert typo.returncode == 1
    assert "ZD-4312 is not a ticket or report you can see here; nothing changed" in typo.stderr
    linked = cli("link", report, "ZD-4321")
    assert linked.returncode == 0, linked.stderr
    shown = json.loads(cli("--json", "show", "ZD-4321").stdout)
    assert {r["title"] for r in shown["records"]} >= {"Made by hand a minute ago"}
    unchecked = cli("link", slack_record(2).home_id, "SC-55", SHORTCUT_API_TOKEN="")
    assert unchecked.returncode == 0
    assert "SC-55 is not known here (Shortcut is not configured); linked all the same" in unchecked.stdout
