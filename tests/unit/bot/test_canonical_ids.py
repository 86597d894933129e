"""`ZD-0042` is `ZD-42` and `SC-007` is `SC-7` at every entry point: inline tags, /bug, the services the
CLI and the API use, and the store."""

from __future__ import annotations

from bot import services
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
