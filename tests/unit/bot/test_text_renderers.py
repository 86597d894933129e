"""Plain-text renderers: what a view shows and what it leaves out."""

from bot.text_renderers import format_counts, format_view
from storage.model import BugRecord
from storage.values import Counts, TicketView


def _record(record_id: str, deleted: bool = False) -> BugRecord:
    return BugRecord(
        "zendesk",
        record_id,
        "2026-11-01T10:00:00.000000Z",
        "2026-11-02T10:00:00.000000Z",
        title=f"Ticket {record_id}",
        deleted=deleted,
    )


def test_a_view_whose_records_are_all_deleted_says_so_instead_of_zero_records():
    text = format_view(TicketView("ZD-1", "ZD-1", ("ZD-1",), (), (), hidden_deleted=1))
    assert text == "ZD-1: 1 record deleted upstream; add --include-deleted to see it"


def test_hidden_deleted_records_are_counted_next_to_the_live_ones():
    text = format_view(TicketView("ZD-1", "ZD-1", ("ZD-1",), (_record("1"),), (), hidden_deleted=3))
    assert text.splitlines()[0] == (
        "ZD-1: 1 record(s), and 3 records deleted upstream; add --include-deleted to see them"
    )


def test_a_view_with_nothing_hidden_reads_as_before():
    assert format_view(TicketView("ZD-1", "ZD-1", ("ZD-1",), (), ())) == "ZD-1: 0 record(s)"
    shown = format_view(TicketView("ZD-1", "ZD-1", ("ZD-1",), (_record("1", deleted=True),), ()))
    assert shown.splitlines()[0] == "ZD-1: 1 record(s)" and "[deleted] Ticket 1" in shown


def test_outside_text_in_a_table_cannot_drive_the_terminal():
    from bot.text_renderers import table

    rendered = table(("title",), [("Crash\x1b[2J\x1b]0;owned\x07 on\nsave\u202eevil",)])
    assert "\x1b" not in rendered and "\x07" not in rendered and "\u202e" not in rendered
    assert rendered.splitlines()[-1] == "Crash[2J]0;owned on saveevil"


def test_stats_list_the_four_state_types_in_workflow_order_even_at_zero():
    counts = Counts(total=3, by_state_type={"started": 1, "none": 2})
    text = format_counts(counts)
    section = text.split("state type", 1)[1].split("\n\n", 1)[0]
    rows = [line.split() for line in section.splitlines()[2:]]
    assert rows == [["backlog", "0"], ["unstarted", "0"], ["started", "1"], ["done", "0"], ["none", "2"]]


def test_show_prints_a_stored_audit_actor_without_its_escape_sequences():
    from datetime import UTC

    from storage.values import AuditEntry

    actor = "ann\x1b[2J\x1b]0;pwned\x07\u202eevil\nsecond line"
    entry = AuditEntry("link", "SL-1.000001", "ZD-1", actor, "2026-12-01T00:00:00Z", 1)
    shown = format_view(TicketView("ZD-1", "ZD-1", ("ZD-1",), (), (entry,)), zone=UTC)
    history = shown.split("history", 1)[1]
    assert "\x1b" not in history and "\x07" not in history and "\u202e" not in history
    assert "ann[2J]0;pwnedevil second line linked SL-1.000001 -> ZD-1" in history
