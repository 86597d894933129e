"""`make demo` (python -m tests.fakes.demo): the whole loop on this machine, with no account anywhere.

It starts the fake Zendesk and the fake Shortcut of tests/fakes on local ports with a few sample tickets and
stories, points the bot at them by its ordinary settings (ZENPY_FORCE_SCHEME / ZENPY_FORCE_NETLOC for zenpy,
SHORTCUT_API_URL), pulls once (`bugtracker sync`), and opens the bot's console on a fresh store in a
directory of its own. While the console runs, a pretend support agent works on every ticket a report is
linked to: a linked Zendesk ticket is solved, a linked Shortcut story moves to In Development and then to
Done, one step per pull interval; the next pull brings the change and the console prints it, as the bot
posts it in a report's thread in Slack. Ctrl-D, `exit` or Ctrl-C ends it all (the fakes stop with it).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from storage.sqlite import SqliteStore
from tests.fakes.shortcut import STATES, FakeShortcut
from tests.fakes.zendesk import FakeZendesk
from tests.support.processes import command

INTERVAL_SECONDS = 10  # SYNC_INTERVAL_SECONDS: its smallest allowed value, so changes show within ~10 s
PRODUCT_PREFIXES = (
    "SLACK_",
    "DYNAMODB_",
    "BUGTRACKER_",
    "ZENDESK_",
    "ZENPY_",
    "SHORTCUT_",
    "SYNC_",
    "METRICS_",
)

TICKETS = (  # (id, subject, status, priority)
    (101, "Checkout button does nothing on Safari", "open", "high"),
    (102, "Password reset e-mail never arrives", "new", "normal"),
    (103, "CSV export times out for large accounts", "pending", "urgent"),
    (104, "Dark mode makes the settings page unreadable", "solved", "low"),
)
STORIES = (  # (id, name, workflow state id)
    (201, "Search results ignore the date filter", STATES[2][0]),
    (202, "App crashes when saving a draft offline", STATES[1][0]),
)
# where a linked item moves, one step per interval: Zendesk status; Shortcut workflow state ids
ZENDESK_NEXT = {"new": "solved", "open": "solved", "pending": "solved", "hold": "solved"}
SHORTCUT_NEXT = {STATES[0][0]: STATES[2][0], STATES[1][0]: STATES[2][0], STATES[2][0]: STATES[4][0],
                 STATES[3][0]: STATES[4][0]}  # fmt: skip

GUIDE = """\
== Unified BugTracker demo: no account anywhere ==
Fake Zendesk  {zendesk} ({tickets} tickets)   Fake Shortcut  {shortcut} ({stories} stories)
Store         {db}
Metrics       curl -s http://127.0.0.1:{metrics}/metrics | grep '^bugtracker_bugs_by_source'
Pulled them once before the console opened (then every {interval} s):
{pulled}
Try, one line at a time:
  Checkout button does nothing on Safari priority=High
        a report: stored as SL-..., and the bot suggests the Zendesk ticket it looks like
  /bug link SL-... ZD-101              link it (use the SL- id the bot printed): its status card follows
  Export to CSV hangs on big accounts  another report
  /bug create shortcut SL-...          a Shortcut story made from it, and linked
  (wait ~{interval}-{twice} s: a pretend agent solves ZD-101 and moves the story; [status] lines appear)
  /bug list                            every bug: pulled tickets and stories, your reports
  /bug stats                           the numbers the Grafana dashboard shows
  exit
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seeded_zendesk() -> FakeZendesk:
    zendesk = FakeZendesk(subdomain="demo", email="agent@demo.example", token="demo-zendesk-token")
    zendesk.start()
    for ticket_id, subject, status, priority in TICKETS:
        zendesk.add_ticket(ticket_id, subject=subject, raw_subject=subject, status=status, priority=priority)
    return zendesk


def seeded_shortcut() -> FakeShortcut:
    shortcut = FakeShortcut(token="demo-shortcut-token")
    shortcut.start()
    for story_id, name, state_id in STORIES:
        shortcut.add_story(story_id, name=name, workflow_state_id=state_id)
    return shortcut


def demo_environment(
    zendesk: FakeZendesk, shortcut: FakeShortcut, workdir: Path, metrics_port: int
) -> dict[str, str]:
    """This process's environment without any product setting (no Slack: the console), plus the demo's."""
    environ = {name: value for name, value in os.environ.items() if not name.startswith(PRODUCT_PREFIXES)}
    root = str(Path(__file__).resolve().parents[2])
    environ.update(
        PYTHONPATH=os.pathsep.join(filter(None, (root, environ.get("PYTHONPATH")))),
        BUGTRACKER_DB=str(workdir / "demo.db"),
        ZENDESK_SUBDOMAIN=zendesk.subdomain,
        ZENDESK_EMAIL=zendesk.email,
        ZENDESK_API_TOKEN=zendesk.token,
        ZENPY_FORCE_SCHEME="http",
        ZENPY_FORCE_NETLOC=zendesk.netloc,
        SHORTCUT_API_TOKEN=shortcut.token,
        SHORTCUT_API_URL=shortcut.api_url,
        SYNC_INTERVAL_SECONDS=str(INTERVAL_SECONDS),
        SYNC_START="2024-01-01",
        METRICS_PORT=str(metrics_port),
        METRICS_REFRESH_SECONDS="5",  # the smallest allowed: the numbers follow what you type at once
    )
    return environ


class PretendAgent:
    """Every INTERVAL_SECONDS: each Zendesk ticket / Shortcut story a stored report lives under moves one step
    (ZENDESK_NEXT, SHORTCUT_NEXT), as if someone worked on it upstream."""

    def __init__(self, db_path: Path, zendesk: FakeZendesk, shortcut: FakeShortcut) -> None:
        self.db_path, self.zendesk, self.shortcut = db_path, zendesk, shortcut
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="demo-agent", daemon=True)

    def start(self) -> PretendAgent:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.wait(INTERVAL_SECONDS):
            try:
                self.step()
            except Exception as exc:  # the demo goes on; the console says what the bot sees
                print(f"[demo] the pretend agent could not work: {exc}", file=sys.stderr)

    def linked(self) -> set[str]:
        if not self.db_path.exists():
            return set()
        store = SqliteStore(self.db_path)
        try:
            rows = store.list_records(source="slack", limit=200).records
        finally:
            store.close()
        return {row.ticket_id for row in rows if row.ticket_id and not row.ticket_id.startswith("SL-")}

    def step(self) -> None:
        for ticket_id in sorted(self.linked()):
            system, _, number = ticket_id.partition("-")
            if system == "ZD" and int(number) in self.zendesk.tickets:
                now = self.zendesk.tickets[int(number)]["status"]
                if now in ZENDESK_NEXT:
                    self.zendesk.touch(int(number), status=ZENDESK_NEXT[now])
            elif system == "SC" and int(number) in self.shortcut.stories:
                story: dict[str, Any] = self.shortcut.stories[int(number)]
                state = story["workflow_state_id"]
                if state in SHORTCUT_NEXT:
                    following = SHORTCUT_NEXT[state]
                    self.shortcut.touch(int(number), workflow_state_id=following, started=True,
                                        completed=following == STATES[4][0])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", help="where the demo's store goes (default: a new temporary directory)")
    args = parser.parse_args(argv)
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="bugtracker-demo-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    zendesk, shortcut = seeded_zendesk(), seeded_shortcut()
    agent = None
    try:
        metrics_port = _free_port()
        env = demo_environment(zendesk, shortcut, workdir, metrics_port)
        # in the demo's own directory with the demo's own environment (no `.env` of the checkout is read)
        init, sync = command("bot.cli", "init"), command("bot.cli", "sync")
        subprocess.run(init, env=env, cwd=workdir, check=True, capture_output=True, text=True)
        pulled = subprocess.run(sync, env=env, cwd=workdir, capture_output=True, text=True)
        summary = (pulled.stdout + pulled.stderr).strip() or "(nothing printed)"
        print(
            GUIDE.format(
                zendesk=zendesk.base_url,
                shortcut=shortcut.base_url,
                tickets=len(TICKETS),
                stories=len(STORIES),
                db=workdir / "demo.db",
                metrics=metrics_port,
                interval=INTERVAL_SECONDS,
                twice=2 * INTERVAL_SECONDS,
                pulled="\n".join(f"  {line}" for line in summary.splitlines()),
            ),
            flush=True,
        )
        agent = PretendAgent(workdir / "demo.db", zendesk, shortcut).start()
        return subprocess.run(command("bot"), env=env, cwd=workdir).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        if agent is not None:
            agent.stop.set()
        zendesk.stop()
        shortcut.stop()


if __name__ == "__main__":
    sys.exit(main())
