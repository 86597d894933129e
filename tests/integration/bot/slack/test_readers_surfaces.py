"""Every Slack surface holds the readers' rule (bot/slack/readers.py): a real Bolt App with a real WebClient
on the fake Slack, two bug channels whose members differ (a public one and a private one)."""

import time

import pytest
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.config import SlackConfig
from bot.slack.directory import Directory
from bot.suggest.service import Suggester
from storage.observed import ObservedStore
from tests.fakes.slack_server import FakeSlack
from tests.support.builders import zendesk_record
from tests.support.slack_app import build_app, parts_of, settle

BUGS, SECRET = "C0BUGS", "G0SECRET"
REFUSAL = "You need to be in #bugs or #security to see their reports."
ALICE, CAROL, GUEST, OUTSIDER = "U0ALICE", "U0CAROL", "U0GUEST", "U0MALLORY"  # Carol: only in SECRET


@pytest.fixture
def fake():
    members = {BUGS: [ALICE, GUEST], SECRET: [CAROL, ALICE]}
    with FakeSlack(members=members, guests={GUEST: "multi"}, channel_names={SECRET: "security"}) as server:
        yield server


@pytest.fixture
def app_on(fake):
    made = []

    def make(store, suggester=None, board=None, status_updates=False):
        config = SlackConfig("xoxb-test-token", "xapp-test-token", (BUGS, SECRET), fake.api_url, (), True)
        client = WebClient(token="xoxb-test-token", base_url=fake.api_url)
        directory = Directory(client, "T0FAKE")
        directory.refresh()
        app, _ = build_app(
            config, store, client, suggester, board, directory=directory, status_updates=status_updates
        )
        made.append(app)
        return app

    return make


def event(app, payload):
    body = {"type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE", "event": payload,
            "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time())}  # fmt: skip
    assert app.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200


def post(app, fake, channel, text, user):
    message = fake.message(channel, text, user)
    event(app, {**message, "channel": channel})
    return message


def command(app, fake, text, user, channel="D0DM"):
    before = len(fake.responses)
    body = {"command": "/bug", "text": text, "user_id": user, "team_id": "T0FAKE", "channel_id": channel,
            "response_url": f"{fake.api_url.removesuffix('/api/')}/respond/{time.time_ns()}",
            "trigger_id": "t", "api_app_id": "A0FAKE"}  # fmt: skip
    assert app.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200
    return fake.wait_for(lambda: len(fake.responses) > before and fake.responses)[before]


def test_show_list_unlinked_and_stats_answer_only_readers(fake, app_on, store):
    app = app_on(store)
    public = post(app, fake, BUGS, "Checkout total is wrong for coupons", ALICE)
    secret = post(app, fake, SECRET, "Payroll export leaks salaries of ACME", CAROL)
    settle(app)
    app = app_on(store)
    secret_id = f"SL-{secret['ts']}"

    carol = command(app, fake, "unlinked", CAROL)  # reads SECRET only
    assert "Payroll export" in str(carol) and "Checkout total" not in str(carol)
    alice = command(app, fake, "list source slack", ALICE)  # reads both
    assert "Payroll export" in str(alice) and "Checkout total" in str(alice)

    for user in (OUTSIDER, GUEST):
        for text in (
            f"show {secret_id}",
            "unlinked",
            "list source slack",
            "stats",
            f"show {secret_id} public",
        ):
            answer = command(app, fake, text, user)
            assert answer["text"] == "You need to be in #bugs or #security to see their reports.", (
                user,
                text,
            )
            assert answer["response_type"] == "ephemeral"

    refused = command(app, fake, f"show SL-{public['ts']}", CAROL)
    assert refused["text"] == f"You need to be in #bugs to see SL-{public['ts']}." and "Checkout" not in str(
        refused
    )
    assert "Payroll export" in str(command(app, fake, f"show {secret_id}", CAROL))


def test_public_is_posted_only_inside_a_bug_channel_whose_members_may_all_read_it(fake, app_on, store):
    app = app_on(store)
    secret = post(app, fake, SECRET, "Payroll export leaks salaries", CAROL)
    settle(app)
    app = app_on(store)
    from_dm = command(app, fake, f"show SL-{secret['ts']} public", CAROL, channel="D0DM")
    assert from_dm["response_type"] == "ephemeral" and "works only inside the bug channel" in from_dm["text"]
    in_bugs = command(app, fake, f"show SL-{secret['ts']} public", ALICE, channel=BUGS)
    assert in_bugs["response_type"] == "ephemeral" and "from another bug channel" in in_bugs["text"]
    in_secret = command(app, fake, f"show SL-{secret['ts']} public", CAROL, channel=SECRET)
    assert in_secret["response_type"] == "in_channel" and "Payroll export" in str(in_secret)


def test_member_events_change_what_a_person_reads_at_once(fake, app_on, store):
    app = app_on(store)
    secret = post(app, fake, SECRET, "Payroll export leaks salaries", CAROL)
    settle(app)
    app = app_on(store)
    assert "Payroll" in str(command(app, fake, "unlinked", CAROL))
    fake.members[SECRET].remove(CAROL)  # Slack's list moves; the event is what tells the bot at once
    event(app, {"type": "member_left_channel", "user": CAROL, "channel": SECRET, "channel_type": "G"})
    settle(app)
    app = app_on(store)
    assert "Payroll" not in str(command(app, fake, "unlinked", CAROL))  # a new app: a fresh cache anyway
    assert f"SL-{secret['ts']}" not in str(command(app, fake, f"show SL-{secret['ts']}", CAROL))


def test_members_unreadable_fails_closed(fake, app_on, store):
    app = app_on(store)
    post(app, fake, SECRET, "Payroll export leaks salaries", CAROL)
    settle(app)
    app = app_on(store)
    fake.fail("conversations.members", "internal_error")
    answer = command(app, fake, "unlinked", CAROL)
    assert "Slack answered `internal_error`" in answer["text"] and "Payroll" not in str(answer)


def test_app_home_shows_only_what_the_person_reads(fake, app_on, store):
    app = app_on(store)
    post(app, fake, SECRET, "Payroll export leaks salaries", CAROL)
    post(app, fake, BUGS, "Checkout total is wrong", ALICE)
    settle(app)
    app = app_on(store)
    for user in (CAROL, OUTSIDER, GUEST):
        event(app, {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"})
    settle(app)
    carol, outsider, guest = (str(fake.published[user]["blocks"]) for user in (CAROL, OUTSIDER, GUEST))
    assert "Payroll" in carol and "Checkout" not in carol
    for seen in (outsider, guest):
        assert REFUSAL in seen
        assert "Payroll" not in seen and "Checkout" not in seen and "Open bugs" not in seen


def test_suggestions_and_status_cards_in_a_channel_leave_out_reports_of_channels_whose_readers_differ(
    fake, app_on, store
):
    suggester = Suggester(store=store)
    observed = ObservedStore(store, suggester.records_written)
    suggester.load()
    app = app_on(observed, suggester, status_updates=True)  # the board bootstrap builds: the readers' rule
    secret = post(app, fake, SECRET, "Payroll export crashes on the summary page, salaries visible", CAROL)
    settle(app)
    app = app_on(observed, suggester, status_updates=True)
    board = parts_of(app).board
    public = post(app, fake, BUGS, "Payroll export crashes on the summary page", ALICE)
    again = post(app, fake, SECRET, "Payroll export crashes on the summary page again", ALICE)
    settle(app)
    thread = str(fake.thread_of(BUGS, public["ts"]))
    assert f"SL-{secret['ts']}" not in thread and "salaries" not in thread
    assert f"SL-{secret['ts']}" in str(fake.thread_of(SECRET, again["ts"]))  # same channel: suggested

    observed.upsert(zendesk_record(9, title="Payroll export"))
    observed.link(f"SL-{secret['ts']}", "ZD-9", "U0LEAD")
    observed.link(f"SL-{public['ts']}", "ZD-9", "U0LEAD")
    board.ticket_changed("ZD-9")
    board.flush()
    public_card = str(fake.thread_of(BUGS, public["ts"]))
    secret_card = str(fake.thread_of(SECRET, secret["ts"]))
    assert "Status of ZD-9" in public_card and "Zendesk ZD-9" in public_card
    # #bugs has a guest: the ticket's ids and state only, never its title
    assert "title not shown here" in public_card and "title not shown here" not in secret_card
    assert "Status of ZD-9" in secret_card and f"SL-{secret['ts']}" in secret_card
    # the other channel's report is not among the records shown (the audit line names ids only)
    assert f"Slack SL-{secret['ts']}" not in public_card and "salaries" not in public_card
    assert f"Slack SL-{public['ts']}" not in secret_card
