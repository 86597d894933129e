"""`top` over the embedded store: open bugs ranked by what the asker may read, in /bug and the CLI."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot import top
from bot.services import UsageError
from bot.slack.slash import dispatch
from bot.text_renderers import format_top
from storage.impact import Numbers
from tests.support.builders import shortcut_record, slack_record, zendesk_record


def report(n: int, author: str, channel: str = "C0BUGS"):
    record = slack_record(n, text=f"report {n} <!channel>")
    return replace(record, attributes={**record.attributes, "author": author, "channel": channel})


def ticket(n: int, requester: str, priority: str = "High"):
    record = zendesk_record(n, priority=priority)
    return replace(record, attributes={**record.attributes, "requester": requester})


@pytest.fixture
def ranked(sqlite_store):
    """SC-1: three reports (one in a private channel) and two tickets; SC-2: one report; SC-3: done."""
    store = sqlite_store
    store.upsert_many([shortcut_record(1, title="Checkout *fails*"), shortcut_record(2), shortcut_record(3)])
    store.upsert_many([report(11, "U1"), report(12, "U2"), report(13, "U3", "C0PRIV"), report(14, "U4")])
    store.upsert_many([ticket(21, "ann@x"), ticket(22, "bob@x", "Critical")])
    for n in (11, 12, 13):
        store.link(f"SL-{report(n, 'x').record_id}", "SC-1", actor="U9")
    store.link("ZD-21", "SC-1", actor="U9")
    store.link("ZD-22", "SC-1", actor="U9")
    store.link(f"SL-{report(14, 'x').record_id}", "SC-2", actor="U9")
    store.upsert(shortcut_record(3, updated=5, state="Done", state_type="done"))
    return store


def test_top_ranks_open_bugs_with_their_counts(ranked):
    bugs = top.top_bugs(ranked, 10)
    assert [bug.ticket_id for bug in bugs] == ["SC-1", "SC-2"]  # SC-3 is done
    first = bugs[0]
    assert first.summary == "3 reports · 2 tickets · 5 people"
    assert (first.numbers.priority, first.title, first.state) == (
        "Critical",
        "Checkout *fails*",
        "In Progress",
    )
    assert top.waiting_line(first.numbers) == "3 reports · 2 customers waiting"
    assert [bug.ticket_id for bug in top.top_bugs(ranked, 1)] == ["SC-1"]


def test_top_counts_only_what_the_asker_may_read(ranked):
    bugs = top.top_bugs(ranked, 10, {"C0BUGS"})
    assert bugs[0].summary == "2 reports · 2 tickets · 4 people" and bugs[0].numbers.priority is None
    assert top.top_bugs(ranked, 10, set()) == []  # reads no bug channel: nothing at all
    only_private = top.top_bugs(ranked, 10, {"C0PRIV"})
    assert [bug.ticket_id for bug in only_private] == ["SC-1", "SC-2"]  # tickets and stories count for them
    assert only_private[0].numbers.reports == 1


def test_slash_top_renders_rows_with_outside_text_inert(ranked):
    reply = dispatch(ranked, "top 5", "U1")
    assert "SC-1" in reply.text and "3 reports · 2 tickets · 5 people" in reply.text
    rows = " ".join(block["text"]["text"] for block in reply.blocks if block["type"] == "section")
    assert "Checkout *fails*" not in rows  # the title's marks are inert look-alikes, not bold
    assert "<!channel>" not in rows
    assert "from 1 to 50" in dispatch(ranked, "top 500", "U1").text


def test_the_cli_table_and_limits():
    numbers = Numbers(3, 2, 1, 5, 2, "High", "2026-12-07T01")
    bug = top.TopBug("SC-1", "Checkout\x1b[31m fails", "In Progress", None, numbers)
    text = format_top([bug])
    assert "SC-1" in text and "\x1b" not in text and "High" in text
    assert top.check_top_limit(None) == top.DEFAULT_TOP and top.check_top_limit("3") == 3
    for bad in ("0", "51", "x", "٣"):
        with pytest.raises(UsageError):
            top.check_top_limit(bad)
    now = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)
    assert top.age(numbers, now) == "3h"
    assert top.age(replace(numbers, first_hour="2026-12-01T04"), now) == "6d"
