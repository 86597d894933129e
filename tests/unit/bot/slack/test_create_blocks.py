"""The create modal's pure builders: the prefilled form, reading it back, field errors, the buttons."""

from __future__ import annotations

import json

from adapters.create import TicketDraft
from bot.slack.create_blocks import (
    OPEN_ACTION,
    PRIORITY,
    REQUESTER,
    STATE,
    TEAM,
    TITLE,
    FormChoices,
    create_button_block,
    create_modal,
    created_blocks,
    matching_options,
    read_form,
)

DRAFT = TicketDraft(
    title="Crash <!channel> on save",
    description="It crashes.",
    permalink="https://x.slack.com/p1",
    priority="High",
)
CHOICES = FormChoices(
    states=[("11", "Engineering / Unscheduled"), ("12", "Engineering / Doing")],
    default_state="11",
    teams=[("t-1", "Payments")],
)


def submitted(view, **values):
    state = {block: {block: value} for block, value in values.items()}
    return {**view, "state": {"values": state}}


def text(value):
    return {"type": "plain_text_input", "value": value}


def picked(value):
    return {"type": "static_select", "selected_option": {"value": value}}


def test_the_form_is_prefilled_as_plain_text_and_each_field_has_its_own_action_id():
    view = create_modal("SL-1.0", "C0BUGS", "shortcut", ["shortcut", "zendesk"], DRAFT, CHOICES)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs[TITLE]["initial_value"] == "Crash <!channel> on save"  # plain_text: shown, never a ping
    assert inputs[STATE]["initial_option"]["value"] == "11" and TEAM in inputs
    assert all(element["action_id"] == block for block, element in inputs.items())
    assert json.loads(view["private_metadata"]) == {
        "report": "SL-1.0",
        "channel": "C0BUGS",
        "system": "shortcut",
        "permalink": "https://x.slack.com/p1",
    }


def test_reading_the_form_back_and_its_errors():
    view = create_modal("SL-1.0", "C0BUGS", "shortcut", ["shortcut"], DRAFT, CHOICES)
    draft, errors = read_form(
        submitted(
            view,
            **{
                TITLE: text(" New title "),
                PRIORITY: picked("none"),
                STATE: picked("12"),
                TEAM: picked("t-1"),
            },
        ),
        CHOICES,
    )
    assert errors == {}
    assert (draft.title, draft.priority, draft.workflow_state_id, draft.group_id) == (
        "New title",
        None,
        12,
        "t-1",
    )
    _, errors = read_form(submitted(view, **{TITLE: text(""), STATE: picked("99")}), CHOICES)
    assert set(errors) == {TITLE, STATE}
    zendesk = create_modal("SL-1.0", "C0BUGS", "zendesk", ["zendesk"], DRAFT)
    _, errors = read_form(submitted(zendesk, **{TITLE: text("t"), REQUESTER: text("not-an-email")}), None)
    assert set(errors) == {REQUESTER}


def test_the_buttons_and_the_thread_answer():
    block = create_button_block("SL-1.0")
    assert block["elements"][0]["action_id"] == OPEN_ACTION and block["elements"][0]["value"] == "SL-1.0"
    text, blocks = created_blocks("SC-9", "shortcut", "https://app.shortcut.com/acme/story/9")
    url = "https://app.shortcut.com/acme/story/9"
    assert text == f"Created SC-9 in Shortcut: {url} — this report now lives under SC-9"
    assert "<https://app.shortcut.com/acme/story/9|SC-9>" in blocks[0]["text"]["text"]


def test_a_status_card_offers_create_only_while_its_report_lives_under_no_ticket():
    from bot.slack.status_blocks import build_status_card
    from bot.slack.status_board import Announcement
    from storage.values import TicketView
    from tests.support.builders import slack_record, zendesk_record

    report = slack_record(1)

    def card(ticket_id, records, create_button=True):
        view = TicketView(ticket_id, ticket_id, (ticket_id,), tuple(records), ())
        return build_status_card(Announcement(report, view, {}, ()), create_button)

    def offers(blocks):
        return [e["value"] for b in blocks if b.get("type") == "actions" for e in b["elements"]
                if e["action_id"] == OPEN_ACTION]  # fmt: skip

    assert offers(card(report.home_id, [report])) == [report.home_id]  # unlinked again
    assert offers(card("SL-1764300002.000002", [report, slack_record(2)])) == ["SL-1764300002.000002"]
    assert offers(card("ZD-5", [zendesk_record(5), report])) == []  # lives under a ticket
    assert offers(card(report.home_id, [report], create_button=False)) == []  # BUG_CREATE=off


def test_past_100_choices_a_select_becomes_a_search_with_the_default_still_chosen():
    states = [(str(n), f"Flow / State {n}") for n in range(1, 151)]
    view = create_modal("SL-1.0", "C1", "shortcut", ["shortcut"], DRAFT, FormChoices(states, "150"))
    element = next(b["element"] for b in view["blocks"] if b.get("block_id") == STATE)
    assert element["type"] == "external_select" and "options" not in element
    assert element["initial_option"]["value"] == "150"
    few = create_modal("SL-1.0", "C1", "shortcut", ["shortcut"], DRAFT, CHOICES)
    assert next(b["element"] for b in few["blocks"] if b.get("block_id") == STATE)["type"] == "static_select"


def test_a_search_answers_what_was_typed_any_case_100_at_most():
    choices = [(str(n), f"Project {n}") for n in range(1, 301)] + [("999", "Checkout <!channel>")]
    assert [o["value"] for o in matching_options(choices, "PROJECT 29")] == ["29", *map(str, range(290, 300))]
    assert len(matching_options(choices, "")) == 100 and matching_options(choices, "  ")[0]["value"] == "1"
    assert [o["value"] for o in matching_options(choices, "999")] == ["999"]  # by id too
    assert matching_options(choices, "checkout")[0]["text"] == {
        "type": "plain_text",
        "text": "Checkout <!channel>",
    }
