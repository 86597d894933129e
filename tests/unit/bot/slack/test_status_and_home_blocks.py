"""The status card, the state-type notice and the Home tab as Block Kit: escaped, within Slack's limits."""

from __future__ import annotations

from dataclasses import replace

from bot.slack.home_blocks import HOME_LINK_PREFIX, build_home_view
from bot.slack.home_data import HomeData, OwnReport, UnlinkedReport
from bot.slack.status_blocks import build_status_card, build_transition_blocks, card_text, transition_text
from bot.slack.status_board import Announcement, Transition
from storage.values import AuditEntry, Counts, TicketView
from tests.support.builders import slack_record, zendesk_record
from tests.support.slack_payload import live_markup

HOSTILE = "<!channel> <https://evil.example|click> & <@U0BOSS>"


def announcement(records, transitions=(), note=None, ticket="ZD-5", audit=()):
    view = TicketView(ticket, ticket, (ticket,), tuple(records), tuple(audit))
    card = {"note": note} if note else {}
    return Announcement(records[0], view, card, tuple(transitions))


def test_the_card_lists_every_record_escaped_and_says_who_linked():
    report = replace(slack_record(1, text=HOSTILE), ticket_id="ZD-5")
    ticket = replace(zendesk_record(5, status="solved", title=HOSTILE), ticket_id="ZD-5")
    entry = AuditEntry("link", report.home_id, "ZD-5", "U0LINKER", "2026-11-29T00:00:00.000000Z", 1)
    shown = announcement([report, ticket], note="Could not read: prio=<!here>", audit=[entry])
    blocks = build_status_card(shown)
    text = str(blocks)
    # outside text (titles, the first answer's note) is plain_text, which Slack never parses
    pages = ("https://acme.zendesk.com/", "https://example.slack.com/archives/")
    assert live_markup({"blocks": blocks}, pages) == ["<@U0LINKER>"]  # the linker's mention, on purpose
    plain = [
        e["text"]
        for b in blocks
        if b["type"] == "context"
        for e in b["elements"]
        if e["type"] == "plain_text"
    ]
    assert plain == ["Could not read: prio=<!here>", HOSTILE, HOSTILE]
    assert "solved (done)" in text and "priority *High*" in text
    assert "<@U0LINKER> linked" in text  # a Slack user id from the audit is a mention on purpose
    assert "Status of ZD-5" in card_text(shown) and len(blocks) <= 50


def test_an_actor_that_is_not_a_user_id_is_escaped():
    report = replace(slack_record(1), ticket_id="ZD-5")
    entry = AuditEntry("link", report.home_id, "ZD-5", "<!channel>", "2026-11-29T00:00:00.000000Z", 1)
    assert "&lt;!channel&gt;" in str(build_status_card(announcement([report], audit=[entry])))


def test_a_card_of_many_records_stays_within_the_limits():
    records = [replace(slack_record(1), ticket_id="ZD-5")]
    records += [replace(zendesk_record(n, title="x" * 5000), ticket_id="ZD-5") for n in range(100, 200)]
    blocks = build_status_card(announcement(records))
    assert len(blocks) <= 50
    assert all(len(block["text"]["text"]) <= 3000 for block in blocks if block["type"] == "section")
    assert "more record(s)" in str(blocks)


def test_the_notice_names_each_move():
    report = replace(slack_record(1), ticket_id="ZD-5")
    moves = [Transition("ZD-5", "zendesk", "solved", "done"), Transition("SC-9", "shortcut", None, "deleted")]
    shown = announcement([report], moves)
    assert (
        transition_text(shown) == "ZD-5 (Zendesk) is now done: solved\nSC-9 (Shortcut) was deleted upstream"
    )
    assert build_transition_blocks(shown)[0]["type"] == "section"


def test_the_home_view_is_escaped_bounded_and_its_buttons_unique():
    class Suggested:
        ticket_id, title = "ZD-41002", HOSTILE

    counts = Counts(open_by_priority={"High": 2, "none": 1}, open_by_source={"zendesk": 2, "slack": 1})
    unlinked = [UnlinkedReport(slack_record(n, text=HOSTILE), [Suggested()] * 3) for n in range(1, 40)]
    own = [OwnReport(f"SL-{n}.000001", None) for n in range(30)]
    view = build_home_view(HomeData(counts, unlinked, own, more_unlinked=True), notice="hello")
    ids = [e["action_id"] for b in view["blocks"] for e in b.get("elements") or [] if "action_id" in e]
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert len(ids) == len(set(ids)) and all(i.startswith(HOME_LINK_PREFIX) for i in ids)
    assert "<!channel>" not in str(view) and "High *2* · no priority *1*" in str(view)


def test_the_card_says_how_many_reports_and_customers_wait():
    def asked_by(record, requester):
        return replace(record, ticket_id="SC-5", attributes={**record.attributes, "requester": requester})

    reports = [replace(slack_record(n), ticket_id="SC-5") for n in (1, 2, 3)]
    gone = replace(slack_record(4), ticket_id="SC-5", deleted=True)  # deleted in Slack: not waiting
    tickets = [asked_by(zendesk_record(n), who) for n, who in ((10, "a@x"), (11, "b@x"), (12, "a@x"))]
    shown = announcement([*reports, gone, *tickets], ticket="SC-5")
    assert "3 reports · 2 customers waiting" in str(build_status_card(shown))
    assert card_text(shown).startswith("Status of SC-5 (3 reports · 2 customers waiting)")
    alone = announcement([slack_record(1)], ticket=slack_record(1).home_id)
    assert "waiting" not in card_text(alone)


def test_the_home_view_shows_what_hurts_most_escaped():
    from bot.top import TopBug
    from storage.impact import Numbers

    hurts = [
        TopBug(
            "SC-1",
            HOSTILE,
            "In Progress",
            "https://app.shortcut.com/acme/story/1",
            Numbers(3, 2, 1, 5, 2, "High", None),
        )
    ]
    view = build_home_view(HomeData(Counts(), hurts_most=hurts))
    text = str(view["blocks"])
    assert "Hurts most" in text and "3 reports · 2 tickets · 5 people" in text
    assert live_markup(view, ("https://app.shortcut.com/",)) == []
    assert "_no open bugs_" in str(build_home_view(HomeData(Counts()))["blocks"])


def _merged(n: int, target: str | None) -> object:
    attributes = {"subject": f"Ticket {n}", "tags": ["closed_by_merge"]}
    if target:
        attributes["merged_into"] = target
    record = zendesk_record(n, status="closed", attributes=attributes)
    return replace(record, state="merged", state_type="done", ticket_id="ZD-5")


def test_a_merged_ticket_says_where_it_went_not_that_it_is_done():
    report = replace(slack_record(1), ticket_id="ZD-5")
    shown = announcement([report, _merged(3, "ZD-5"), _merged(4, None)])
    text, plain = str(build_status_card(shown)), card_text(shown)
    assert "state *merged into ZD-5*" in text and "state *merged into another ticket*" in text
    assert "Zendesk ZD-3: merged into ZD-5," in plain and "Zendesk ZD-4: merged into another ticket," in plain
    assert "done" not in text and "done" not in plain


def test_a_ticket_merged_into_another_is_announced_as_merged_even_when_it_was_done():
    from bot.slack.status_board import state_types, transitions

    report = replace(slack_record(1), ticket_id="ZD-5")
    view = TicketView("ZD-5", "ZD-5", ("ZD-5",), (report, _merged(3, "ZD-5")), ())
    moves = transitions(view, {"zendesk#3": "done"})  # it was solved, then merged
    assert moves == (Transition("ZD-3", "zendesk", "merged", "merged", "ZD-5"),)
    assert transition_text(announcement([report], moves)) == "ZD-3 (Zendesk) was merged into ZD-5"
    assert state_types(view) == {"zendesk#3": "merged"}  # stored: the next flush announces nothing
    assert transitions(view, state_types(view)) == ()
    unknown = Transition("ZD-4", "zendesk", "merged", "merged")
    assert (
        transition_text(announcement([report], [unknown])) == "ZD-4 (Zendesk) was merged into another ticket"
    )


def test_a_shortcut_state_named_merged_is_only_a_state_name():
    from bot.slack.status_board import state_types
    from tests.support.builders import shortcut_record

    story = replace(
        shortcut_record(9, state="merged", state_type="done", attributes={"merged_into": "ZD-5"}),
        ticket_id="ZD-5",
    )
    shown = announcement([replace(slack_record(1), ticket_id="ZD-5"), story])
    assert "Shortcut SC-9: merged (done)" in card_text(shown)
    assert state_types(shown.view) == {"shortcut#9": "done"}
