"""What the Home tab shows, read from both stores: open counts, the newest unlinked reports, and a person's
own reports (the per-author list) with the ticket each lives under."""

from __future__ import annotations

from bot.slack.home_data import CachedCounts, home_data, own_key, own_report_entry
from tests.support.builders import slack_record, zendesk_record


def test_home_data_on_both_stores(store):
    store.upsert(zendesk_record(5, status="solved"))
    store.upsert(zendesk_record(6, status="open", priority="Low"))
    linked, unlinked, earlier = slack_record(1), slack_record(2), slack_record(0)
    store.upsert(earlier)
    store.put_meta(own_key("U0ALICE"), {"reports": [earlier.home_id]})  # as an earlier version kept it
    store.upsert_linked(linked, "ZD-5", actor="U0ALICE", also=own_report_entry("U0ALICE", linked))
    store.try_insert(unlinked, also=own_report_entry("U0ALICE", unlinked))
    assert own_report_entry(None, slack_record(3)) == []  # no author: nothing kept

    data = home_data(store, "U0ALICE", counts=CachedCounts(store))
    assert data.counts.open_by_source == {"zendesk": 1, "slack": 3}
    assert [item.report.home_id for item in data.unlinked] == [unlinked.home_id, earlier.home_id]
    assert [item.suggestions for item in data.unlinked] == [[], []]  # no suggester given
    own = {item.report_id: item.view.ticket_id for item in data.own}
    assert own == {
        unlinked.home_id: unlinked.home_id,
        linked.home_id: "ZD-5",
        earlier.home_id: earlier.home_id,
    }
    assert [item.report_id for item in data.own] == [unlinked.home_id, linked.home_id, earlier.home_id]
    assert home_data(store, "U0BOB").own == []


def test_counts_are_read_once_a_minute(sqlite_store):
    reads = []
    original = sqlite_store.counts
    sqlite_store.counts = lambda: reads.append(1) or original()
    cached = CachedCounts(sqlite_store, seconds=60)
    cached()
    cached()
    assert len(reads) == 1
