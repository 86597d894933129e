"""Block Kit builders are pure: values in, blocks out, no mocks."""

from bot.slack.blocks import MAX_BLOCKS, build_intake_reply, build_page_blocks, build_show_blocks
from bot.slack.intake import IntakeResult
from storage.model import BugRecord
from storage.values import AuditEntry, Page, TicketView


def record(source, record_id, **extra):
    return BugRecord(source, record_id, "2026-11-01T10:00:00.000000Z", "2026-11-02T10:00:00.000000Z", **extra)


def test_show_blocks_name_every_system_with_links_and_the_alias():
    view = TicketView(
        requested_id="SL-1732712345.000100",
        ticket_id="ZD-5",
        alias_chain=("SL-1732712345.000100", "ZD-5"),
        records=(
            record("zendesk", "5", title="Login", state="open", priority="High", url="https://z/5"),
            record("slack", "1732712345.000100", title="login broken", url="https://s/p1"),
        ),
        audit=(AuditEntry("link", "SL-1732712345.000100", "ZD-5", "U1", "2026-11-03T00:00:00.000000Z", 1),),
    )
    blocks = build_show_blocks(view)
    text = str(blocks)
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "ZD-5"}}
    assert "SL-1732712345.000100 was linked" in text
    assert "<https://z/5|Zendesk ZD-5>" in text and "<https://s/p1|Slack SL-1732712345.000100>" in text
    assert "status *open*" in text and "priority *High*" in text and "U1 linked" in text


def test_show_blocks_stay_under_slacks_limit():
    records = tuple(record("zendesk", str(n)) for n in range(80))
    blocks = build_show_blocks(TicketView("ZD-1", "ZD-1", ("ZD-1",), records, ()))
    assert len(blocks) <= MAX_BLOCKS and "more record(s) not shown" in str(blocks[-1])


def test_page_blocks_have_a_button_only_when_there_is_more():
    page = Page((record("slack", "1732712345.000100", ticket_id="SL-1732712345.000100"),), "cur")
    assert build_page_blocks("t", page, "/bug unlinked next cur")[-1]["type"] == "actions"
    assert build_page_blocks("t", Page(page.records, None), None)[-1]["type"] == "section"


def test_intake_reply_says_where_priority_and_how_to_link():
    stored = build_intake_reply(IntakeResult("message", "SL-1.1", "SL-1.1", priority="High", reply=True))
    assert "*SL-1.1*" in stored.text and "*High*" in stored.text and "/bug link SL-1.1" in stored.text
    linked = build_intake_reply(IntakeResult("message", "SL-1.1", "ZD-2", problems=("bad priority",)))
    assert (
        "linked from SL-1.1" in linked.text and "bad priority" in linked.text and "ticketId=" in linked.text
    )


def test_show_blocks_of_live_and_hidden_deleted_records_say_how_many_are_left_out():
    view = TicketView(
        "ZD-1", "ZD-1", ("ZD-1",), (record("zendesk", "1", title="Live"),), (), hidden_deleted=2
    )
    text = str(build_show_blocks(view))
    assert "2 records deleted upstream; add `deleted` (`/bug show ZD-1 deleted`) to see them" in text
    assert "Live" in text
