"""Every Block Kit builder, fed records whose every outside string is hostile: what it returns carries no
live markup (no ping, no link but to the pages the adapters built), within Slack's size limits; outside text
cannot format or fake the bot's own lines in mrkdwn, and no bidi control reaches any text."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack import blocks as builders
from bot.slack.home_blocks import build_home_view
from bot.slack.home_data import HomeData, OwnReport, UnlinkedReport
from bot.slack.intake import IntakeResult
from bot.slack.mrkdwn import HEADER_LIMIT, MAX_BLOCKS, SECTION_LIMIT
from bot.slack.slash import USAGE
from bot.slack.status_blocks import build_status_card, build_transition_blocks, card_text, transition_text
from bot.slack.status_board import Announcement, Transition
from bot.slack.suggestion_blocks import link_modal, suggestion_blocks, suggestion_text
from bot.suggest.service import Suggestion
from storage.values import AuditEntry, Counts, LinkResult, Page, TicketView
from tests.support.builders import shortcut_record, slack_record, zendesk_record
from tests.support.slack_payload import live_markup, mrkdwn_objects, mrkdwn_strings

GOOD_PAGES = ("https://example.slack.com/archives/", "https://acme.zendesk.com/agent/tickets/",
              "https://app.shortcut.com/")  # fmt: skip
hostile = st.sampled_from(
    ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S1>", "<https://evil.example|Zendesk ZD-777>",
     "&lt;!here&gt;", "<@U0ALICE>", "<#C0GEN>", "a & b", "*", "`", "\n", "x" * 4000, "é" * 200,
     "\n*Status of ZD-9* · state *done*", "_FAKEITALIC_", "~FAKESTRIKE~", "`FAKECODE`", "*FAKEBOLD*",
     "\u202eevil\u202c", "\u2066isolated\u2069", "\u202a\u202b\u202d\u2067\u2068"]
)  # fmt: skip
hostile_text = st.lists(hostile | st.text(max_size=20), min_size=1, max_size=6).map(" ".join)


@st.composite
def records(draw):
    maker = draw(st.sampled_from([slack_record, zendesk_record, shortcut_record]))
    n = draw(st.integers(min_value=1, max_value=60))
    url = draw(
        st.sampled_from(
            [None, "javascript:alert(1)", "https://evil.example/x|y", "https://e.example/<!here>"]
        )
    )
    fields = {"title": draw(hostile_text), "priority_raw": draw(hostile_text)}
    if maker is not slack_record:
        fields["state"] = draw(hostile_text)
    record = maker(n, **fields)
    if draw(st.booleans()):
        from dataclasses import replace

        record = replace(record, url=url)
    return record


FAKE_MARKS = ("*Status of ZD-9*", "*done*", "_FAKEITALIC_", "~FAKESTRIKE~", "`FAKECODE`", "*FAKEBOLD*")
BIDI = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]


def assert_inert(payload):
    assert live_markup(payload, GOOD_PAGES) == [], payload
    everything = json.dumps(payload, ensure_ascii=False)
    assert not any(char in everything for char in BIDI), payload
    for text in mrkdwn_strings({"blocks": payload.get("blocks") or payload}):
        assert not any(mark in text for mark in FAKE_MARKS), text
    for obj in mrkdwn_objects(payload.get("blocks") or payload):
        assert len(obj["text"]) <= SECTION_LIMIT and obj.get("verbatim") is True
    blocks = payload.get("blocks") or []
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block.get("type") == "header":
            assert len(block["text"]["text"]) <= HEADER_LIMIT


@settings(max_examples=60, deadline=None)
@given(st.lists(records(), min_size=1, max_size=60), hostile_text, hostile_text)
def test_show_list_link_and_intake_builders_are_inert(found, actor, problem):
    view = TicketView(
        "ZD-1", "ZD-1", ("ZD-1",), tuple(found), (AuditEntry("link", "SL-1.1", "ZD-1", actor, "2026", 1),)
    )
    for reply in (
        builders.build_show_reply(view, public=True),
        builders.build_page_reply(problem, Page(tuple(found), "abc"), f"/bug list state {problem} next abc"),
        builders.build_link_reply("link", LinkResult("SL-1.1", "ZD-1", "ZD-1", (problem,))),
        builders.build_intake_reply(
            IntakeResult("message", "SL-1.1", "SL-1.1", problems=(problem,) * 9, reply=True)
        ),
        builders.build_error_reply(problem),  # an error quoting what someone typed (not text_reply)
        builders.build_error_reply(problem, USAGE),
        builders.build_stats_reply(Counts(by_state={problem: 1})),
    ):
        assert_inert(reply.payload())


@settings(max_examples=40, deadline=None)
@given(st.lists(records(), min_size=1, max_size=30), hostile_text)
def test_status_suggestion_and_home_builders_are_inert(found, text):
    report = slack_record(1, text=text or "(empty)", title=text)
    view = TicketView(
        "ZD-1",
        "ZD-1",
        ("SL-1.1", "ZD-1"),
        tuple(found),
        (AuditEntry("link", "SL-1.1", "ZD-1", text, "2026", 1),),
    )
    announcement = Announcement(report, view, {"note": text}, (Transition("ZD-1", text, text, "done"),))
    assert_inert({"text": "", "blocks": build_status_card(announcement)})
    assert_inert({"text": "", "blocks": build_transition_blocks(announcement)})
    suggestions = [
        Suggestion(r.home_id, r.home_id, r.source_system, r.title, r.url, r.state, 0.5) for r in found[:5]
    ]
    assert_inert({"text": "", "blocks": suggestion_blocks(report.home_id, suggestions)})
    assert_inert({"text": "", "blocks": link_modal(report.home_id, text, suggestions, "C1")["blocks"]})
    home = HomeData(
        Counts(), [UnlinkedReport(r, suggestions) for r in found[:5]], [OwnReport(report.home_id, view)]
    )
    assert_inert({"text": "", "blocks": build_home_view(home, None)["blocks"]})
    for plain in (
        card_text(announcement),
        transition_text(announcement),
        suggestion_text(report.home_id, suggestions),
    ):
        assert isinstance(plain, str)
