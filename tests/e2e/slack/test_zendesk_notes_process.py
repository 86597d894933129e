"""The loop back to support, end to end: two bot processes (ZENDESK_NOTES=on) on one store, between the
fake Slack, the fake Shortcut and the fake Zendesk (real zenpy). Marking the story done in Shortcut leads,
after the next pull, to exactly one internal note on each linked ticket, even when the instance sending one
is killed mid-way (SIGKILL: no clean-up); the other takes its claim over at once (its process is gone from
this host) and settles it by reading the ticket's comments."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from bot.slack.claims import PREFIX
from storage.sqlite import SqliteStore
from tests.fakes.shortcut import FakeShortcut
from tests.fakes.slack_server import FakeSlack
from tests.fakes.zendesk import FakeZendesk
from tests.support import processes
from tests.support.processes import child_env, start_entry_point

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"
INTERVAL = 10  # SYNC_INTERVAL_SECONDS, its smallest allowed value
STARTED, DONE = 500000003, 500000005
TICKETS = (41002, 41005, 41007)


def start_bot(
    slack: FakeSlack, shortcut: FakeShortcut, zendesk: FakeZendesk, db_path: Path
) -> subprocess.Popen:
    env = child_env(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_APP_TOKEN="xapp-test-token",
        SLACK_CHANNEL_ID=CHANNEL,
        SLACK_API_URL=slack.api_url,
        BUGTRACKER_DB=str(db_path),
        SHORTCUT_API_TOKEN=shortcut.token,
        SHORTCUT_API_URL=shortcut.api_url,
        ZENDESK_SUBDOMAIN=zendesk.subdomain,
        ZENDESK_EMAIL=zendesk.email,
        ZENDESK_API_TOKEN=zendesk.token,
        ZENPY_FORCE_SCHEME="http",
        ZENPY_FORCE_NETLOC=zendesk.netloc,
        SYNC_INTERVAL_SECONDS=str(INTERVAL),
        ZENDESK_NOTES="on",
    )
    return start_entry_point("bot", cwd=db_path.parent, env=env, stderr=subprocess.STDOUT)


def holder_pid(store: SqliteStore) -> int | None:
    """The pid of the instance holding a note's claim now (owner: host:pid:random), if any."""
    for number in TICKETS:
        held = store.lease_holder(f"{PREFIX}note:SC-7104:1:ZD-{number}")
        if held is not None:
            return int(held.owner.split(":")[1])
    return None


def test_a_done_story_notes_each_linked_ticket_once_with_two_instances_one_killed(tmp_path):
    db_path = tmp_path / "bugs.db"
    store = SqliteStore(db_path)
    store.init()
    with FakeSlack() as slack, FakeShortcut() as shortcut, FakeZendesk() as zendesk:
        shortcut.add_story(7104, name="Checkout fails on Safari", workflow_state_id=STARTED)
        for number in TICKETS:
            zendesk.add_ticket(number, status="open", subject=f"Checkout broken ({number})")
        bots = [start_bot(slack, shortcut, zendesk, db_path) for _ in range(2)]
        outputs: list[str] = []
        try:
            slack.wait_for(lambda: len(slack.connections) >= 2, timeout=30)
            slack.wait_for(
                lambda: (
                    store.get_record("shortcut", "7104")
                    and all(store.get_record("zendesk", str(n)) for n in TICKETS)
                ),
                timeout=INTERVAL * 3 + 30,
            )
            for number in TICKETS:
                store.link(f"ZD-{number}", "SC-7104", actor="test")
            zendesk.delay = 1.0  # each Zendesk answer takes a second: an instance can be caught mid-note

            shortcut.touch(7104, workflow_state_id=DONE, completed=True)

            pid = slack.wait_for(lambda: holder_pid(store), timeout=INTERVAL * 3 + 30)
            victim = next(bot for bot in bots if bot.pid == pid)
            victim.send_signal(signal.SIGKILL)
            outputs.append(victim.communicate(timeout=20)[0] or "")
            survivor = next(bot for bot in bots if bot is not victim)

            slack.wait_for(
                lambda: all(
                    (store.get_meta(f"note:SC-7104:1:ZD-{n}") or {}).get("status") == "sent" for n in TICKETS
                ),
                # the survivor takes the killed instance's claim over (its process is gone from this host)
                # when it next looks: after its next pull, or within 30 s
                timeout=240,
            )
            slack.wait_for(lambda: not (store.get_meta("notes:pending") or {}).get("rounds"), timeout=90)
            outputs.append(processes.stop_bot(survivor))
        finally:
            for bot in bots:
                if bot.poll() is None:
                    bot.kill()
                    bot.communicate()
    for number in TICKETS:
        notes = zendesk.internal_notes(number)
        assert len(notes) == 1, (number, notes)
        assert "SC-7104" in notes[0]["plain_body"] and "Done" in notes[0]["plain_body"]
        assert all(comment["public"] is False for comment in zendesk.comments[number])
    assert "Traceback" not in outputs[-1] and "zd-test-token" not in "".join(outputs)
