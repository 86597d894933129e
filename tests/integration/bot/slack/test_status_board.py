"""The status board on both stores: what is announced, once, and what survives a restart (a new board on
the same store). The transport records announcements (the Slack one is tested end to end)."""

from __future__ import annotations

from dataclasses import replace

from bot.slack.status_board import PENDING_KEY, StatusBoard
from bot.sync.runner import run_sync
from tests.support.builders import shortcut_record, slack_record, zendesk_record
from tests.support.waiting import wait_until


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.told: list = []
        self.fail = fail

    def announce(self, announcement):
        if self.fail:
            raise RuntimeError("Slack is down")
        self.told.append(announcement)
        return {"channel": "C0BUGS", "ts": "1.000001"}


class ListSource:
    """A SyncSource that hands out one page of records per pull."""

    name, meta_key = "zendesk", "sync:zendesk:test"

    def __init__(self) -> None:
        self.pages: list[list] = []
        self.stats = type("Stats", (), {"requests": 0, "rate_limit_wait": 0.0})()

    def pull(self, saved, full=False):
        from adapters.pull import PulledPage

        records = self.pages.pop(0) if self.pages else []
        yield PulledPage(records=records, checkpoint={"n": (saved or {}).get("n", 0) + 1})


def linked_report(store, ticket=5):
    store.upsert(zendesk_record(ticket, status="open"))
    report = slack_record(1)
    store.upsert_linked(report, f"ZD-{ticket}", actor="U0AUTHOR")
    return report


def test_a_change_is_announced_once_and_a_no_op_pull_announces_nothing(store):
    linked_report(store)
    transport = Recorder()
    board = StatusBoard(store, transport)
    board.ticket_changed("ZD-5")  # the link: the card shows the ticket as it is
    board.flush()
    assert [a.transitions for a in transport.told] == [()]
    source = ListSource()
    source.pages = [
        [zendesk_record(5, status="solved", updated=10)],
        [zendesk_record(5, status="solved", updated=10)],
    ]
    run_sync(store, source, notifier=board)
    board.flush()
    run_sync(store, source, notifier=board)  # the same copy again: unchanged
    board.flush()
    assert len(transport.told) == 2
    change = transport.told[1]
    assert [(t.ticket_id, t.now, t.state) for t in change.transitions] == [("ZD-5", "done", "solved")]
    assert change.card["ts"] == "1.000001"  # the card announced before is the one updated
    assert store.get_meta(PENDING_KEY) == {"tickets": []}


def test_several_changes_in_one_pull_make_one_announcement_per_report(store):
    linked_report(store)
    store.upsert(shortcut_record(9, state="In Progress", state_type="started"))
    store.link("SC-9", "ZD-5", actor="U0LINKER")
    transport = Recorder()
    board = StatusBoard(store, transport)
    board.ticket_changed("ZD-5")
    board.flush()
    source = ListSource()
    source.name, source.meta_key = "mixed", "sync:mixed:test"
    source.pages = [
        [
            zendesk_record(5, status="solved", updated=10),
            shortcut_record(9, state="Done", state_type="done", updated=10),
            zendesk_record(5, status="solved", priority="Low", updated=20),
        ]
    ]
    run_sync(store, source, notifier=board)
    board.flush()
    assert len(transport.told) == 2
    assert {t.ticket_id for t in transport.told[1].transitions} == {"ZD-5", "SC-9"}


def test_a_title_change_or_an_unlinked_report_announces_nothing(store):
    linked_report(store)
    store.upsert(slack_record(2))  # a report under its own id
    transport = Recorder()
    board = StatusBoard(store, transport)
    board.ticket_changed("ZD-5")
    board.ticket_changed("SL-" + slack_record(2).record_id)
    board.flush()
    assert len(transport.told) == 1
    retitled = replace(zendesk_record(5, status="open", updated=10), title="Another title")
    board.records_changed([replace(retitled, ticket_id=store.upsert(retitled).ticket_id)])
    board.flush()
    assert len(transport.told) == 1


def test_noted_changes_survive_a_failed_announcement_and_a_restart(store):
    linked_report(store)
    StatusBoard(store, Recorder()).ticket_changed("ZD-5")
    assert store.get_meta(PENDING_KEY) == {"tickets": ["ZD-5"]}  # noted before anything was posted
    failing = StatusBoard(store, Recorder(fail=True))
    assert failing.flush() == 0
    assert store.get_meta(PENDING_KEY) == {"tickets": ["ZD-5"]}  # kept for the next try
    transport = Recorder()
    restarted = StatusBoard(store, transport)  # a new process on the same store
    assert restarted.flush() == 1
    assert restarted.flush() == 0 and StatusBoard(store, transport).flush() == 0  # nothing repeated
    assert len(transport.told) == 1


def test_the_first_reply_becomes_the_card_and_a_deleted_ticket_is_announced(store):
    report = linked_report(store)
    transport = Recorder()
    board = StatusBoard(store, transport)
    board.first_reply("SL-" + report.record_id, "C0BUGS", "9.000009", "Stored as ZD-5.")
    board.ticket_changed("ZD-5")
    board.flush()
    assert transport.told[0].card == {"channel": "C0BUGS", "ts": "9.000009", "note": "Stored as ZD-5."}
    deleted = replace(zendesk_record(5, status="open", updated=30), deleted=True)
    store.upsert(deleted)
    board.records_changed([replace(deleted, ticket_id="ZD-5")])
    board.flush()
    assert [t.now for t in transport.told[1].transitions] == ["deleted"]


def test_two_instances_announce_once_and_a_dead_claimers_announcement_is_made_later(store):
    from bot.slack.claims import Claims
    from bot.slack.status_board import _digest, fingerprint

    linked_report(store)
    first, second = Recorder(), Recorder()
    one = StatusBoard(store, first, Claims(store, owner="one", ttl_seconds=300))
    two = StatusBoard(store, second, Claims(store, owner="two", ttl_seconds=300))
    one.ticket_changed("ZD-5")
    assert one.flush() + two.flush() == 1 and len(first.told) + len(second.told) == 1

    store.upsert(zendesk_record(5, status="solved", updated=10))
    one.records_changed([replace(zendesk_record(5, status="solved", updated=10), ticket_id="ZD-5")])
    view = store.show("ZD-5", include_deleted=True)
    # instance "one" claimed this announcement and died before making it
    dead = f"status:SL-{slack_record(1).record_id}:{_digest(fingerprint(view))}"
    assert Claims(store, owner="one", ttl_seconds=300).once(dead) is True
    assert two.flush() == 0 and store.get_meta(PENDING_KEY) == {"tickets": ["ZD-5"]}  # kept pending
    now = store.clock()
    store.clock = lambda: now + 301  # the dead instance's claim expires
    assert two.flush() == 1 and store.get_meta(PENDING_KEY) == {"tickets": []}
    assert [t.now for t in second.told[-1].transitions] == ["done"]


def test_the_console_prints_status_changes_as_text(sqlite_store):
    from bot.slack.status_cards import ConsoleStatus

    store = sqlite_store
    linked_report(store)
    printed: list[str] = []
    board = StatusBoard(store, ConsoleStatus(printed.append))
    board.ticket_changed("ZD-5")
    board.flush()
    changed = replace(zendesk_record(5, status="solved", updated=10), title="\x1b[31mred\x1b[0m")
    store.upsert(changed)
    board.records_changed([replace(changed, ticket_id="ZD-5")])
    board.flush()
    assert len(printed) == 2 and "\x1b" not in "".join(printed)
    assert "Status of ZD-5" in printed[1] and "Zendesk ZD-5: solved (done), priority High" in printed[1]
    assert "ZD-5 (Zendesk) is now done: solved" in printed[1] and "/bug show ZD-5" in printed[1]


def test_changes_noted_by_another_process_are_announced_by_the_running_bot(store):
    linked_report(store)
    recorder = Recorder()
    running = StatusBoard(store, recorder, flush_every=0.05)  # the bot's worker looks periodically
    running.ticket_changed("ZD-5")
    running.flush()
    # `bugtracker sync` from cron: a board with no transport notes what its pull changed, announces nothing
    source = ListSource()
    source.pages = [[zendesk_record(5, status="solved", updated=10)]]
    run_sync(store, source, notifier=StatusBoard(store))
    assert store.get_meta(PENDING_KEY) == {"tickets": ["ZD-5"]}
    running.start()
    try:
        wait_until(lambda: len(recorder.told) >= 2)
    finally:
        running.stop()
    assert [t.now for t in recorder.told[1].transitions] == ["done"]
    assert store.get_meta(PENDING_KEY) == {"tickets": []}
