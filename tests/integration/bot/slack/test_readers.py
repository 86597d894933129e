"""Who may read which bug channel (bot/slack/readers.py), over real HTTP against the fake Slack."""

from dataclasses import replace

import pytest
from slack_sdk import WebClient

from bot.slack.directory import Directory, DirectoryReader
from bot.slack.readers import CACHE_SECONDS, EVERYTHING, Readers, ReaderScope, ReadersUnavailable, channel_of
from storage.values import TicketView
from tests.fakes.slack_server import WORKSPACE_URL, FakeSlack
from tests.support.builders import slack_record, zendesk_record

BUGS, SECRET, TWIN = "C0BUGS", "G0SECRET", "G0TWIN"
CROWD = [f"U0M{n:04d}" for n in range(450)]  # more than two pages of conversations.members


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake():
    members = {BUGS: ["U0ALICE", "U0GUEST", "U0NAMEDGUEST", *CROWD], SECRET: ["U0ALICE", "U0CAROL"],
               TWIN: ["U0CAROL", "U0ALICE"]}  # fmt: skip
    guests = {"U0GUEST": "multi", "U0NAMEDGUEST": "single"}
    with FakeSlack(members=members, guests=guests, groups={"S0AUDIT": ["U0AUDITOR"]},
                   channel_names={SECRET: "security-bugs"}) as server:  # fmt: skip
        yield server


def readers_of(fake, clock=None, readers=("U0NAMEDGUEST", "S0AUDIT"), linkers=("U0LEAD",), loaded=True):
    client = WebClient(token="xoxb-test-token", base_url=fake.api_url)
    directory = Directory(client, "T0FAKE")
    if loaded:
        directory.refresh()
    return Readers(client, (BUGS, SECRET), readers, linkers, clock=clock or Clock(), directory=directory)


def test_members_read_their_channels_only_paged_and_cached_five_minutes(fake):
    clock = Clock()
    readers = readers_of(fake, clock)
    assert readers.scope(CROWD[-1]).channels == {BUGS}  # on the third page
    assert fake.calls.count("conversations.members") == 4  # BUGS: 3 pages of 200, SECRET: 1
    assert readers.scope("U0CAROL").channels == {SECRET}
    assert readers.scope("U0ALICE").channels == {BUGS, SECRET}
    assert fake.calls.count("conversations.members") == 4  # cached
    clock.now += CACHE_SECONDS + 1
    assert readers.scope("U0CAROL").channels == {SECRET}
    assert fake.calls.count("conversations.members") == 8  # read again after five minutes


def test_member_events_keep_the_cache_current(fake):
    readers = readers_of(fake)
    assert readers.scope("U0DAVE").channels == frozenset()
    readers.member_joined(SECRET, "U0DAVE")
    assert readers.scope("U0DAVE").channels == {SECRET}
    readers.member_left(SECRET, "U0ALICE")
    assert readers.scope("U0ALICE").channels == {BUGS}
    assert fake.calls.count("conversations.members") == 4  # read once (3 pages + 1), not again


def test_guests_read_only_when_named_and_named_people_and_linkers_read_every_channel(fake):
    readers = readers_of(fake)
    assert readers.scope("U0GUEST").channels == frozenset()  # a member, but a guest
    assert readers.scope("U0NAMEDGUEST").channels == {BUGS, SECRET}  # named in BUG_READERS
    assert readers.scope("U0AUDITOR").channels == {BUGS, SECRET}  # through a user group
    assert readers.scope("U0LEAD").channels == {BUGS, SECRET}  # linkers are readers
    assert readers.scope("U0STRANGER").channels == frozenset()


def test_an_empty_bug_linkers_does_not_make_everyone_a_reader(fake):
    assert readers_of(fake, readers=(), linkers=()).scope("U0STRANGER").reads_any is False


def test_slack_failing_refuses_with_a_readable_line(fake):
    readers = readers_of(fake)
    fake.fail("conversations.members", "internal_error")
    with pytest.raises(ReadersUnavailable, match="Slack answered `internal_error`. Nothing is shown"):
        readers.scope("U0ALICE")
    fake.fail("conversations.members", None)
    fake.fail("users.info", "ratelimited")
    with pytest.raises(ReadersUnavailable):  # the map is not read yet: she is asked about alone
        readers_of(fake, loaded=False).scope("U0ALICE")  # a member: a guest? Slack cannot say, so nothing


def test_a_private_channel_the_bot_is_not_in_fails_closed_with_a_hint(fake):
    client = WebClient(token="xoxb-test-token", base_url=fake.api_url)
    readers = Readers(client, (BUGS, "G0NOBOT"))
    with pytest.raises(ReadersUnavailable, match="is the bot a member of every bug channel"):
        readers.scope("U0ALICE")


def test_the_refusal_names_the_real_channels(fake):
    assert readers_of(fake).refusal() == "You need to be in #bugs or #security-bugs to see their reports."
    client = WebClient(token="xoxb-test-token", base_url=fake.api_url)
    assert Readers(client, (BUGS,)).refusal() == "You need to be in #bugs to see its reports."


def report(n: int, channel: str):
    """A Slack report posted in `channel` (its permalink names the channel too)."""
    record = slack_record(n)
    url = f"{WORKSPACE_URL}archives/{channel}/p{record.record_id.replace('.', '')}"
    return replace(record, url=url, attributes={**record.attributes, "channel": channel})


def test_a_scope_filters_records_index_rows_and_views():
    scope = ReaderScope(frozenset({BUGS}))
    mine, secret = report(1, BUGS), report(2, SECRET)
    row, row_secret = replace(mine, attributes={}), replace(secret, attributes={})  # index rows: url only
    assert channel_of(row) == BUGS and channel_of(row_secret) == SECRET
    assert scope.may_read(mine) and scope.may_read(zendesk_record(1)) and not scope.may_read(secret)
    assert scope.may_read(row) and not scope.may_read(row_secret)
    assert not scope.may_read(replace(row, url=None))  # channel unknown: fail closed
    view = TicketView("ZD-1", "ZD-1", ("ZD-1",), (zendesk_record(1), mine, secret), ())
    shown, hidden = scope.view(view)
    assert shown.records == (zendesk_record(1), mine) and hidden == 1
    assert not ReaderScope(frozenset()).may_read(zendesk_record(1))  # ticket records need a bug channel
    assert EVERYTHING.may_read(secret)


def test_same_readers_and_public_answers(fake):
    readers = readers_of(fake)
    secret = report(3, SECRET)
    assert readers.same_readers(SECRET, SECRET) and readers.same_readers(SECRET, TWIN)  # same members
    assert not readers.same_readers(BUGS, SECRET) and not readers.fits_channel(BUGS, secret)
    assert readers.fits_channel(SECRET, zendesk_record(1))
    assert not readers.fits_channel(BUGS, zendesk_record(1))  # U0GUEST may not read tickets
    assert "works only inside the bug channel" in readers.public_problem("D0DM", [zendesk_record(1)])
    assert "from another bug channel" in readers.public_problem(SECRET, [report(4, BUGS)])
    assert "has guests" in readers.public_problem(BUGS, [zendesk_record(1)])  # U0GUEST is not named
    assert readers.public_problem(SECRET, [secret, zendesk_record(1)]) is None


def test_slack_failing_leaves_suggestions_out_and_makes_status_cards_wait(fake):
    readers = readers_of(fake)
    fake.fail("conversations.members", "internal_error")
    assert readers.fits_channel(BUGS, report(5, SECRET)) is False  # a suggestion: left out
    with pytest.raises(ReadersUnavailable):
        readers.fits_channel(BUGS, report(5, SECRET), strict=True)  # a card: tried again later
    with pytest.raises(ReadersUnavailable):
        readers.fits_channel(BUGS, zendesk_record(1), strict=True)  # a ticket too: are all members readers?


def test_people_of_another_organisation_are_outsiders_like_unnamed_guests(fake):
    fake.teams["U0PARTNER"] = "T0ACME"  # listed by users.list with their own team
    fake.strangers.add("U0STRANGER")  # Slack Connect: not listed, users.info says is_stranger
    fake.members[SECRET] += ["U0PARTNER"]
    fake.members[TWIN] = ["U0ALICE", "U0STRANGER"]
    readers = readers_of(fake)
    assert readers.directory.kind("U0PARTNER") == "outsider" and readers.directory.kind("U0STRANGER") is None
    assert readers.scope("U0PARTNER").channels == frozenset()
    readers.member_joined(BUGS, "U0STRANGER")
    assert readers.scope("U0STRANGER").channels == frozenset()  # asked about alone: users.info, is_stranger
    assert not readers.fits_channel(SECRET, zendesk_record(1))
    assert "from another organisation" in readers.public_problem(SECRET, [zendesk_record(1)])


def test_every_unnamed_member_of_an_externally_shared_channel_is_an_outsider(fake):
    fake.shared.add(SECRET)
    readers = readers_of(fake, readers=("S0AUDIT",))
    assert readers.scope("U0CAROL").channels == frozenset() and readers.scope("U0ALICE").channels == {BUGS}
    assert "shared with another organisation" in readers.public_problem(SECRET, [report(3, SECRET)])
    assert not readers.fits_channel(SECRET, zendesk_record(1))


def test_public_waits_for_the_guest_map_and_never_asks_per_member(fake):
    readers = readers_of(fake, loaded=False)
    assert readers.public_problem(SECRET, [zendesk_record(1)]) is None  # 2 members: asked about alone
    assert fake.calls.count("users.info") == 2
    with pytest.raises(ReadersUnavailable, match="still reading who is a guest"):
        readers.public_problem(BUGS, [zendesk_record(1)])  # 452 members: not one by one
    reader = DirectoryReader(readers.directory).start()  # the bot starts it with the app
    try:
        assert readers.directory.wait_ready(10)
        assert fake.calls.count("users.list") == 3  # 455 users, pages of 200
        assert "has guests" in readers.public_problem(BUGS, [zendesk_record(1)])
        assert fake.calls.count("users.info") == 2
    finally:
        assert reader.stop()  # it must not outlive the test, asking a fake Slack that has stopped


def test_the_map_follows_user_change_and_team_join(fake):
    readers = readers_of(fake)
    readers.directory.learn({"id": "U0CAROL", "team_id": "T0FAKE", "is_restricted": True})
    assert readers.scope("U0CAROL").channels == frozenset()
    readers.directory.learn({"id": "U0NEW", "team_id": "T0FAKE"})
    readers.member_joined(SECRET, "U0NEW")
    assert readers.scope("U0NEW").channels == {SECRET} and fake.calls.count("users.info") == 0


def test_a_member_who_leaves_while_the_members_are_read_is_not_kept(fake):
    readers = readers_of(fake)
    original = readers.client.conversations_members

    def members_then_leave(**kwargs):
        page = original(**kwargs)
        readers.member_left(BUGS, "U0ALICE")  # the event arrives while the pages are read
        return page

    readers.client.conversations_members = members_then_leave
    assert "U0ALICE" not in readers.members(BUGS)


def test_an_audit_line_shows_its_actor_and_ids_only_to_readers_of_both():
    from storage.values import AuditEntry

    mine, secret = report(1, BUGS), report(2, SECRET)
    audit = (
        AuditEntry("link", mine.home_id, "ZD-1", "U0LEAD", "2026-12-01T00:00:00Z", 1),
        AuditEntry("link", secret.home_id, "ZD-1", "U0SECU", "2026-12-01T00:00:00Z", 1),
        AuditEntry("unlink", "SL-1764300099.000099", "ZD-1", "U0SECU", "2026-12-01T00:00:00Z", 1),
    )
    view = TicketView("ZD-1", "ZD-1", ("ZD-1",), (zendesk_record(1), mine, secret), audit)
    shown, _ = ReaderScope(frozenset({BUGS})).view(view)
    assert [entry.from_id for entry in shown.audit] == [mine.home_id]  # not the private one, not an unknown
    assert len(EVERYTHING.view(view)[0].audit) == 3
