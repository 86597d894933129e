"""Block Kit for suggested links: escaped outside text, Slack's limits, and the console's text form."""

from __future__ import annotations

import json
import re

from bot.slack.console import Console
from bot.slack.intake import Intake
from bot.slack.suggestion_blocks import (
    link_modal,
    suggestion_blocks,
    suggestion_text,
    text_without_suggestions,
    without_suggestions,
)
from bot.suggest.index import TitleIndex
from bot.suggest.service import Suggester, Suggestion
from storage.observed import ObservedStore
from tests.fakes.slack_server import _block_problem
from tests.support.builders import zendesk_record

HOSTILE = "<!channel> Checkout & <https://evil.test|click here> " + "x" * 300


def suggestion(
    ticket_id="ZD-5", title=HOSTILE, record_id=None, url="https://acme.zendesk.com/agent/tickets/5"
):
    return Suggestion(ticket_id, record_id or ticket_id, "zendesk", title, url, "open", 0.5)


def test_titles_are_escaped_and_bounded():
    blocks = suggestion_blocks("SL-1764300001.000001", [suggestion(), suggestion("ZD-6"), suggestion("ZD-7")])
    shown = json.dumps(blocks)
    assert "<!channel>" not in shown and "<https://evil.test" not in shown
    assert "&lt;!channel&gt; Checkout &amp; &lt;https://evil.test|click here&gt;" in shown
    assert _block_problem({"blocks": blocks}) is None  # the fake applies Slack's limits
    assert [b["accessory"]["value"] for b in blocks if "accessory" in b] == [
        "SL-1764300001.000001 ZD-5",
        "SL-1764300001.000001 ZD-6",
        "SL-1764300001.000001 ZD-7",
    ]
    assert blocks[-1]["elements"][0]["text"]["text"] == "None of these"


def test_a_record_linked_elsewhere_is_offered_as_its_ticket():
    blocks = suggestion_blocks("SL-1.000001", [suggestion("ZD-5", "Cart crash", record_id="SC-9")])
    assert blocks[1]["accessory"]["text"]["text"] == "Link to ZD-5" and "SC-9, linked to ZD-5" in json.dumps(
        blocks
    )


def test_choosing_removes_the_suggestions_and_keeps_the_rest():
    kept = {"type": "section", "text": {"type": "mrkdwn", "text": "Stored as SL-1"}}
    blocks = [kept, *suggestion_blocks("SL-1.000001", [suggestion()])]
    after = without_suggestions(blocks, "<@U1> linked SL-1 to *ZD-5*.")
    assert after[0] == kept and len(after) == 2 and "linked" in after[1]["elements"][0]["text"]
    text = "Stored as SL-1.\n" + suggestion_text("SL-1.000001", [suggestion()])
    assert text_without_suggestions(text, "done") == "Stored as SL-1.\ndone"


def test_the_modal_stays_within_limits():
    view = link_modal("SL-1.000001", HOSTILE, [suggestion(f"ZD-{n}") for n in range(12)], "C0BUGS")
    assert (
        len(view["title"]["text"]) <= 24 and json.loads(view["private_metadata"])["report"] == "SL-1.000001"
    )
    options = view["blocks"][1]["element"]["options"]
    assert len(options) == 10 and all(len(o["text"]["text"]) <= 75 for o in options)
    assert "<!channel>" not in view["blocks"][0]["text"]["text"]
    assert _block_problem({"view": view}) is None
    no_choices = link_modal("SL-1.000001", "t", [], "C0BUGS")
    assert [b["block_id"] for b in no_choices["blocks"][1:]] == ["ticket"] and not no_choices["blocks"][1][
        "optional"
    ]


def test_the_console_prints_the_suggestions_with_the_command_to_type(sqlite_store):
    suggester = Suggester(TitleIndex(background=False), store=sqlite_store)
    store = ObservedStore(sqlite_store, suggester.records_written)
    store.upsert(zendesk_record(41002, title="iOS app crashes when opening the shopping cart"))
    suggester.load()
    answer = Console(store, Intake(store), user="console:ann", suggester=suggester).handle(
        "iOS app crashes when I open the cart"
    )
    stored = re.search(r"Stored as (SL-[0-9]+\.[0-9]+)", answer)  # the console renders without mrkdwn
    assert stored, answer
    report = stored.group(1)
    assert "Possibly the same bug as:" in answer
    assert (
        "ZD-41002 iOS app crashes when opening the shopping cart (Zendesk, open)"
        f"  ->  /bug link {report} ZD-41002" in answer
    )


def test_the_note_fits_a_message_that_already_has_fifty_blocks() -> None:
    from bot.slack.suggestion_blocks import without_suggestions

    blocks = [
        {"type": "section", "block_id": f"b{n}", "text": {"type": "mrkdwn", "text": f"line {n}"}}
        for n in range(50)
    ]
    updated = without_suggestions(blocks, "U0BOB linked it.")
    assert len(updated) == 50 and updated[-1]["elements"][0]["text"] == "U0BOB linked it."
    assert "more block(s) not shown" in str(updated[-2]) and updated[0] == blocks[0]
    short = without_suggestions(blocks[:3], "noted")
    assert short[:3] == blocks[:3] and len(short) == 4
