"""The console tells the status board of a tag link as Slack does: the report gets its card at once, so the
ticket's next change of state type prints the "is now done" line too."""

from __future__ import annotations

from bot.slack.console import Console
from bot.slack.intake import Intake
from bot.slack.status_board import StatusBoard
from tests.support.builders import zendesk_record


class _Recording:
    def __init__(self) -> None:
        self.announcements = []

    def announce(self, announcement):
        self.announcements.append(announcement)
        return {}


def test_a_tag_link_prints_the_card_and_a_later_state_type_change_its_transition(sqlite_store):
    sqlite_store.upsert(zendesk_record(123, status="open", updated=10))
    transport = _Recording()
    board = StatusBoard(sqlite_store, transport)
    console = Console(sqlite_store, Intake(sqlite_store), user="console:ann", board=board)
    assert "ZD-123" in console.handle("checkout broken on iOS ticketId=ZD-123")
    assert board.flush() == 1
    assert transport.announcements[0].transitions == ()  # the card only
    solved = zendesk_record(123, status="solved", updated=20)
    sqlite_store.upsert(solved)
    board.records_changed(sqlite_store.show("ZD-123").records)  # as the sync runner tells it
    assert board.flush() == 1
    (transition,) = transport.announcements[1].transitions
    assert transition.state == "solved"
