"""Intake verbs on the real embedded store: store first, link by tag, idempotent under redelivery."""

from dataclasses import replace

from bot.slack.intake import Intake
from bot.tickets.link import operator
from storage.values import UpsertOutcome

TS = "1732712345.000100"


def message(text, ts=TS, user="U0ALICE", **extra):
    return {"type": "message", "user": user, "text": text, "ts": ts, **extra}


def test_new_message_is_stored_with_author_text_channel_and_permalink(sqlite_store):
    intake = Intake(sqlite_store, workspace_url="https://acme.slack.com/")
    result = intake.ingest_message(message("Login broken\ndetails priority=High"), "C0BUGS")
    stored = sqlite_store.get_record("slack", TS)
    assert result.outcome is UpsertOutcome.INSERTED and result.reply
    assert result.ticket_id == f"SL-{TS}" and stored.ticket_id == f"SL-{TS}"
    assert stored.title == "Login broken" and stored.priority == "High" and stored.priority_raw == "High"
    assert stored.created_at == "2024-11-27T12:59:05.000100Z"
    assert stored.attributes["author"] == "U0ALICE" and stored.attributes["channel"] == "C0BUGS"
    assert stored.url == "https://acme.slack.com/archives/C0BUGS/p1732712345000100"


def test_ticket_tag_stores_under_the_ticket_with_the_slack_id_aliased(sqlite_store):
    result = Intake(sqlite_store).ingest_message(message("broken ticketId=ZD-12345"), "C0BUGS")
    assert result.ticket_id == "ZD-12345" and result.linked == f"SL-{TS} -> ZD-12345"
    assert sqlite_store.resolve(f"SL-{TS}") == (f"SL-{TS}", "ZD-12345")
    assert [r.record_id for r in sqlite_store.show("ZD-12345").records] == [TS]


def test_redelivery_leaves_one_record_and_earns_one_reply(sqlite_store):
    intake = Intake(sqlite_store)
    results = [intake.ingest_message(message("broken ticketId=ZD-7"), "C0BUGS") for _ in range(3)]
    assert [r.reply for r in results] == [True, False, False]
    assert len(sqlite_store.show("ZD-7").records) == 1


def test_bad_tags_keep_the_message_and_say_why(sqlite_store):
    result = Intake(sqlite_store).ingest_message(message("broken priority=soon ticketId=ZD"), "C0BUGS")
    stored = sqlite_store.get_record("slack", TS)
    assert stored is not None and stored.priority is None and stored.priority_raw == "soon"
    assert len(result.problems) == 2 and result.reply


def test_edit_rereads_tags_and_links(sqlite_store):
    intake = Intake(sqlite_store)
    intake.ingest_message(message("broken"), "C0BUGS")
    edit = {
        "subtype": "message_changed",
        "channel": "C0BUGS",
        "ts": "1732712400.000001",
        "message": message("broken badly priority=Low ticketId=SC-9", edited={"ts": "1732712400.000000"}),
    }
    result = intake.edit_message(edit)
    stored = sqlite_store.get_record("slack", TS)
    assert stored.attributes["text"].startswith("broken badly") and stored.priority == "Low"
    assert stored.ticket_id == "SC-9" and result.reply
    assert intake.edit_message(edit).reply is False  # a replayed edit changes nothing


def test_delete_erases_the_words_and_keeps_id_channel_author_times_and_ticket(store):
    """Deleted means deleted: the words go, the facts needed to account for the report stay."""
    intake = Intake(store, workspace_url="https://acme.slack.com/")
    intake.ingest_message(message("Payroll of ACME broken priority=High ticketId=ZD-9"), "C0BUGS")
    before = store.get_record("slack", TS)
    result = intake.delete_message(
        {"subtype": "message_deleted", "deleted_ts": TS, "event_ts": "1732712500.0"}
    )
    stored = store.get_record("slack", TS)
    assert result.kind == "delete" and stored.deleted is True
    assert stored.attributes == {"author": "U0ALICE", "channel": "C0BUGS"}
    assert stored.title == "" and stored.priority is None and stored.priority_raw is None
    assert "ACME" not in repr(stored) and "ACME" not in repr(store.show("ZD-9", include_deleted=True))
    assert stored.created_at == before.created_at and stored.updated_at == "2024-11-27T13:01:40.000000Z"
    assert stored.ticket_id == "ZD-9" and stored.url == before.url
    assert [entry.action for entry in store.show("ZD-9", include_deleted=True).audit] == ["link"]
    assert store.unlinked_slack().records == ()
    again = intake.delete_message(
        {"subtype": "message_deleted", "deleted_ts": TS, "event_ts": "1732712600.0"}
    )
    assert again.outcome is UpsertOutcome.UNCHANGED  # redelivered: nothing more to erase
    late = intake.ingest_message(message("Payroll of ACME broken priority=High"), "C0BUGS")  # a late copy
    assert late.outcome is UpsertOutcome.STALE and "ACME" not in repr(store.get_record("slack", TS))


def test_thread_reply_updates_activity_once_and_links_by_tag(sqlite_store):
    intake = Intake(sqlite_store)
    intake.ingest_message(message("broken"), "C0BUGS")
    reply = message("same here", ts="1732712360.000000", user="U0BOB", thread_ts=TS)
    intake.thread_reply(reply, "C0BUGS")
    intake.thread_reply(reply, "C0BUGS")  # redelivered
    stored = sqlite_store.get_record("slack", TS)
    assert stored.attributes["reply_count"] == 1 and stored.attributes["last_activity"] == reply["ts"]
    tagged = message("it's ticketId=ZD-55", ts="1732712370.000000", user="U0BOB", thread_ts=TS)
    result = intake.thread_reply(tagged, "C0BUGS")
    assert result.linked == f"SL-{TS} -> ZD-55" and result.reply
    assert sqlite_store.get_record("slack", TS).ticket_id == "ZD-55"


def test_reply_tag_respects_linkers_except_for_the_author(sqlite_store):
    intake = Intake(
        sqlite_store,
        actor_of=lambda user: replace(operator(user), linker=user == "U0BOSS", linkers_named=True),
    )
    intake.ingest_message(message("broken"), "C0BUGS")
    refused = intake.thread_reply(
        message("ticketId=ZD-1", ts="1732712360.0", user="U0BOB", thread_ts=TS), "C"
    )
    assert refused.linked is None and "may not link" in refused.problems[0]
    own = intake.thread_reply(message("ticketId=ZD-1", ts="1732712361.0", thread_ts=TS), "C")
    assert own.linked == f"SL-{TS} -> ZD-1"


def test_a_retry_that_finds_its_report_stored_still_earns_a_claimed_answer(sqlite_store):
    intake = Intake(sqlite_store)
    first = intake.ingest_message(message("broken"), "C0BUGS")  # the write landed, its answer was lost
    assert first.reply and first.exclusive  # the insert itself is once-only: no claim needed
    retried = intake.ingest_message(message("broken"), "C0BUGS", retried=True)
    assert retried.outcome is UpsertOutcome.UNCHANGED and retried.reply and not retried.exclusive
    assert intake.ingest_message(message("broken"), "C0BUGS").reply is False  # a plain redelivery


def test_bot_edits_are_not_reports_or_links(sqlite_store):
    intake = Intake(sqlite_store)
    intake.ingest_message(message("broken"), "C0BUGS")
    edit = {"subtype": "message_changed", "channel": "C0BUGS", "ts": "1732712400.000001",
            "message": message("ticketId=ZD-4003", ts="1732712399.0", user="U0OTHER", thread_ts=TS,
                               bot_profile={"id": "B1"}, edited={"ts": "1732712400.0"})}  # fmt: skip
    assert intake.edit_message(edit) is None
    assert sqlite_store.resolve(f"SL-{TS}") == (f"SL-{TS}",)


def test_a_reply_in_a_deleted_reports_thread_writes_nothing_back(store):
    intake = Intake(store)
    intake.ingest_message(message("Payroll of ACME broken"), "C0BUGS")
    intake.delete_message({"subtype": "message_deleted", "deleted_ts": TS, "event_ts": "1732712500.0"})
    erased = store.get_record("slack", TS)
    intake.thread_reply(message("still broken", ts="1732712600.000000", user="U0BOB", thread_ts=TS), "C0BUGS")
    assert store.get_record("slack", TS) == erased
