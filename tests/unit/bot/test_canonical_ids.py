"""`ZD-0042` is `ZD-42` and `SC-007` is `SC-7` at every entry point: inline tags, /bug, the services the
CLI and the API use, and the store."""

from __future__ import annotations

from bot import migrations, services
from bot.metrics import drilldown
from bot.slack.intake import Intake
from bot.slack.slash import dispatch
from tests.support.builders import shortcut_record, zendesk_record

TS = "1732712345.000100"


def test_a_tag_with_leading_zeros_links_under_the_synced_ticket(sqlite_store):
    sqlite_store.upsert(zendesk_record(42))
    result = Intake(sqlite_store).ingest_message(
        {"user": "U1", "text": "pay fails ticketId=zd-0042", "ts": TS}, "C0BUGS"
    )
    assert result.ticket_id == "ZD-42"
    assert sqlite_store.resolve(f"SL-{TS}") == (f"SL-{TS}", "ZD-42")
    assert sorted(r.source_system for r in sqlite_store.show("ZD-42").records) == ["slack", "zendesk"]
    assert sqlite_store.ticket_ids_in_use() == {"ZD-42"}  # nothing under ZD-0042


def test_bug_commands_read_leading_zeros(sqlite_store):
    sqlite_store.upsert_many([zendesk_record(1), shortcut_record(7)])
    shown = dispatch(sqlite_store, "show zd-00001", "U1")
    assert "nothing is stored" not in shown.text and "ZD-1" in shown.text
    Intake(sqlite_store).ingest_message({"user": "U1", "text": "crash", "ts": TS}, "C0BUGS")
    linked = dispatch(sqlite_store, f"link SL-{TS} SC-007", "U1")
    assert "SC-7" in linked.text and "SC-007" not in linked.text
    assert sqlite_store.resolve(f"SL-{TS}") == (f"SL-{TS}", "SC-7")
    dispatch(sqlite_store, f"unlink sl-{TS}", "U1")
    assert sqlite_store.resolve(f"SL-{TS}") == (f"SL-{TS}",)


def test_services_api_and_store_read_leading_zeros(sqlite_store):
    sqlite_store.upsert_many([zendesk_record(42), shortcut_record(7)])
    assert services.show_ticket(sqlite_store, "ZD-0042").ticket_id == "ZD-42"
    assert sqlite_store.show("SC-007").requested_id == "SC-7"
    assert sqlite_store.resolve("sc-0007") == ("SC-7",)
    assert drilldown.ticket(sqlite_store, "ZD-00042")["ticket_id"] == "ZD-42"


def _stored_by_an_older_version(store):
    from tests.support.builders import slack_record

    report = slack_record(1)
    store.upsert_many([report, zendesk_record(42)])
    with store.transaction():
        store._link(report.home_id, "ZD-0042", "old-version")  # as `ticketId=ZD-0042` was stored
    return report


def test_the_bot_moves_non_canonical_records_once_at_start_up(sqlite_store, caplog, monkeypatch):
    import logging

    from bot.run import _canonicalize_ids_once

    report = _stored_by_an_older_version(sqlite_store)
    with caplog.at_level(logging.INFO, logger="bot"):
        _canonicalize_ids_once(sqlite_store)
    assert "moved 1 record(s) stored under ZD-0042 to ZD-42" in caplog.text
    assert sqlite_store.get_record("slack", report.record_id).ticket_id == "ZD-42"
    assert sqlite_store.get_meta(migrations.CANONICAL_IDS_KEY)["moved"] == [["ZD-0042", "ZD-42", 1]]
    looked = []
    monkeypatch.setattr(type(sqlite_store), "ticket_ids_in_use", lambda self: looked.append(1) or set())
    _canonicalize_ids_once(sqlite_store)  # done once: the next starts do not read the indexes again
    assert looked == []
    assert migrations.canonicalize_ids(sqlite_store, "init") == [] and looked == [1]  # init always looks


def test_a_failed_start_up_migration_is_one_warning_and_the_bot_goes_on(sqlite_store, caplog, monkeypatch):
    import logging

    from bot.run import _canonicalize_ids_once
    from storage.errors import StoreError

    def unreachable(self):
        raise StoreError("DynamoDB is throttling query")

    monkeypatch.setattr(type(sqlite_store), "ticket_ids_in_use", unreachable)
    with caplog.at_level(logging.WARNING, logger="bot"):
        _canonicalize_ids_once(sqlite_store)
    assert "could not move records stored under non-canonical ids" in caplog.text
    assert sqlite_store.get_meta(migrations.CANONICAL_IDS_KEY) is None  # tried again at the next start
