"""A Shortcut story or Zendesk ticket created ("Create…", bot/tickets/create.py) from a report of a private
channel is read only by that channel's readers until a pull writes it again (docs/privacy.md): its title is
in no `/bug list`, `/bug top`, App Home or suggestion in another bug channel's thread, also after a restart
(the suggestions are loaded again from the store's list index, whose DynamoDB rows carry no attributes).
Both stores; a real Bolt App on the fake Slack, the create over HTTP against the fake Shortcut / Zendesk."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from adapters.shortcut_create import ShortcutCreate
from adapters.shortcut_http import ShortcutHttp
from adapters.zendesk_create import ZendeskCreate
from adapters.zendesk_pull import build_zendesk_client
from bot.config import SlackConfig
from bot.slack.directory import Directory
from bot.suggest.service import Suggester
from bot.tickets.create import create_ticket
from bot.tickets.upstreams import Upstreams
from storage.observed import ObservedStore
from tests.fakes.shortcut import FakeShortcut
from tests.fakes.slack_server import FakeSlack
from tests.fakes.zendesk import FakeZendesk, point_zenpy_at, zendesk_config
from tests.support.builders import shortcut_record
from tests.support.slack_app import build_app, settle

BUGS, SECRET = "C0BUGS", "G0SECRET"
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"  # Alice reads both, Bob only #bugs, Carol only #security
PRIVATE_WORDS = "Payroll export leaks the salaries of the ACME board"
PUBLIC_TITLE = "Payroll export leaks salaries into the CSV"  # a story any bug channel reads (pulled)
LATER = "2099-01-01T00:00:00.000000Z"  # the pull's copy: changed since it was created
CREATED = {"shortcut": "SC-9001", "zendesk": "ZD-5001"}


@pytest.fixture
def world(store, monkeypatch):
    members = {BUGS: [ALICE, BOB], SECRET: [ALICE, CAROL]}
    with (
        FakeSlack(members=members, channel_names={SECRET: "security"}) as slack,
        FakeShortcut() as shortcut,
        FakeZendesk() as zendesk,
    ):
        point_zenpy_at(zendesk, monkeypatch)
        upstreams = Upstreams(
            shortcut=ShortcutCreate(ShortcutHttp(shortcut.api_url, shortcut.token, backoff_factor=0.01)),
            zendesk=ZendeskCreate(
                build_zendesk_client(zendesk_config(zendesk), backoff_factor=0.01), zendesk.subdomain
            ),
        )
        yield slack, store, upstreams


class Bot:
    """The bot as bootstrap builds it: the suggestions loaded from the store, kept current by its writes.
    Each question goes to a fresh app on the same store and suggester (`settle` ends an app's listeners)."""

    def __init__(self, slack, store):
        self.slack = slack
        self.suggester = Suggester(store=store)
        self.store = ObservedStore(store, self.suggester.records_written)
        self.suggester.load()

    def _app(self):
        config = SlackConfig(
            "xoxb-test-token", "xapp-test-token", (BUGS, SECRET), self.slack.api_url, (), True
        )
        client = WebClient(token="xoxb-test-token", base_url=self.slack.api_url)
        directory = Directory(client, "T0FAKE")
        directory.refresh()
        app, _ = build_app(config, self.store, client, self.suggester, directory=directory)
        return app

    def _event(self, payload):
        app = self._app()
        body = {"type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE", "event": payload,
                "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time())}  # fmt: skip
        assert app.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200
        settle(app)

    def post(self, channel, text, user):
        message = self.slack.message(channel, text, user)
        self._event({**message, "channel": channel})
        return message

    def command(self, text, user):
        app, before = self._app(), len(self.slack.responses)
        body = {"command": "/bug", "text": text, "user_id": user, "team_id": "T0FAKE", "channel_id": "D0DM",
                "response_url": f"{self.slack.api_url.removesuffix('/api/')}/respond/{time.time_ns()}",
                "trigger_id": "t", "api_app_id": "A0FAKE"}  # fmt: skip
        assert app.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200
        answer = self.slack.wait_for(lambda: len(self.slack.responses) > before and self.slack.responses)
        settle(app)
        return str(answer[before])

    def home(self, user):
        self._event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"})
        return str(self.slack.published[user]["blocks"])

    def seen_by_bob(self, system):
        """What Bob (a reader of #bugs only) is shown, and the thread of a like report in #bugs."""
        seen = {
            "list": self.command("list", BOB),
            "list by source": self.command(f"list source {system}", BOB),
            "top": self.command("top", BOB),
        }
        like = self.post(BUGS, "Payroll export leaks the salaries", ALICE)
        seen["suggestions in #bugs"] = str(self.slack.thread_of(BUGS, like["ts"]))
        seen["App Home"] = self.home(BOB)
        return seen


@pytest.mark.parametrize("system", ["shortcut", "zendesk"])
def test_a_ticket_created_from_a_private_report_is_shown_only_to_its_channels_readers(world, system):
    slack, store, upstreams = world
    bot = Bot(slack, store)
    bot.store.upsert(shortcut_record(77, title=PUBLIC_TITLE))  # pulled: every bug channel reads it
    secret = bot.post(SECRET, PRIVATE_WORDS, CAROL)
    created = create_ticket(
        bot.store, upstreams, system, f"SL-{secret['ts']}", CAROL, lambda _: True, visible_to=SECRET
    )
    assert created.ticket_id == CREATED[system] and created.record.title == PRIVATE_WORDS

    seen = bot.seen_by_bob(system)
    for surface, shown in seen.items():
        assert "ACME board" not in shown and created.ticket_id not in shown, surface
    assert "SC-77" in seen["suggestions in #bugs"]  # a ticket #bugs may read is suggested there
    carol = bot.command(f"list source {system}", CAROL)  # the private channel's reader: yes
    assert created.ticket_id in carol and "ACME board" in carol

    bot = Bot(slack, store)  # a restart: the suggestions are loaded from the store's list index
    for surface, shown in bot.seen_by_bob(system).items():
        assert "ACME board" not in shown and created.ticket_id not in shown, ("after a restart", surface)

    stored = bot.store.get_record(system, created.record.record_id)
    pulled = replace(
        stored,
        attributes={k: v for k, v in stored.attributes.items() if k != "visible_to"},
        updated_at=LATER,
        source_version=LATER if stored.source_version else None,
        ticket_id=None,
    )
    bot.store.upsert(pulled)  # a pull writes it again: public in its system anyway
    assert "ACME board" in bot.command(f"list source {system}", BOB)
