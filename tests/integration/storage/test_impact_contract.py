"""Impact per bug (storage/impact.py), identical on both stores: after every kind of write each bug's kept
tally equals a count from the records, the ranked read lists open bugs highest first, and a batch killed
midway is made exact by the recount."""

from __future__ import annotations

from dataclasses import replace

import pytest

from storage import impact
from storage.store import RECOUNT_META
from tests.support.builders import shortcut_record, slack_record, zendesk_record


def exact(store) -> dict[str, impact.Impact]:
    """The kept tallies, checked equal to a count of every record from scratch."""
    kept = {found.ticket_id: found for found in store.scan_impacts()}
    recounted = impact.tally(store.scan_records())
    assert set(kept) == set(recounted)
    for ticket_id, found in kept.items():
        assert impact.same(found, recounted[ticket_id]), ticket_id
    return kept


def report(n: int, author: str = "U1", channel: str = "C0BUGS", **overrides):
    record = slack_record(n, **overrides)
    return replace(record, attributes={**record.attributes, "author": author, "channel": channel})


def ticket(n: int, requester: str = "ann@example.com", **overrides):
    record = zendesk_record(n, **overrides)
    return replace(record, attributes={**record.attributes, "requester": requester})


def test_counts_stay_exact_through_link_unlink_relink_and_delete(store):
    store.upsert(shortcut_record(1))
    store.upsert_many([report(11, "U1"), report(12, "U2"), report(13, "U1", channel="C0PRIV")])
    store.upsert_many([ticket(21, "ann@x"), ticket(22, "bob@x", priority="Critical")])
    exact(store)

    for source in ("SL-" + report(n).record_id for n in (11, 12, 13)):
        store.link(source, "SC-1", actor="U9")
    store.link("ZD-21", "SC-1", actor="U9")
    store.link("ZD-22", "SC-1", actor="U9")
    kept = exact(store)
    assert set(kept) == {"SC-1"}  # the linked ids hold nothing any more: their tallies are gone
    numbers = kept["SC-1"].visible()
    assert (numbers.reports, numbers.tickets, numbers.stories) == (3, 2, 1)
    assert (numbers.people, numbers.customers, numbers.priority) == (4, 2, "Critical")
    assert kept["SC-1"].root is not None and kept["SC-1"].root.title == "Story 1"
    # a reader of C0BUGS alone: two reports, one person there; the priority is not told (a record is hidden)
    partial = kept["SC-1"].visible({"C0BUGS"})
    assert (partial.reports, partial.people, partial.tickets, partial.priority) == (2, 4, 2, None)
    assert kept["SC-1"].visible(set()).reports == 0 and kept["SC-1"].visible(set()).tickets == 0

    store.unlink("ZD-22", actor="U9")
    kept = exact(store)
    assert kept["SC-1"].visible().tickets == 1 and kept["ZD-22"].visible().tickets == 1
    store.link("ZD-22", "SC-1", actor="U9")  # re-linked
    assert exact(store)["SC-1"].visible().tickets == 2

    store.upsert(ticket(21, "ann@x", updated=10, status="deleted"))  # deleted upstream
    store.upsert(replace(report(12, "U2", updated=10), deleted=True))
    kept = exact(store)
    assert (kept["SC-1"].visible().tickets, kept["SC-1"].visible().reports) == (1, 2)


def test_done_bugs_leave_the_ranked_read_and_come_back_when_reopened(store):
    store.upsert(shortcut_record(1))
    store.upsert(shortcut_record(2))
    store.upsert_many([report(n, f"U{n}") for n in range(11, 14)])
    for n in range(11, 14):
        store.link("SL-" + report(n).record_id, "SC-2", actor="U9")
    store.upsert(ticket(21))
    store.link("ZD-21", "SC-1", actor="U9")
    assert [found.ticket_id for found in store.top_impacts(10)] == ["SC-2", "SC-1"]

    store.upsert(shortcut_record(2, updated=5, state="Done", state_type="done"))
    assert [found.ticket_id for found in store.top_impacts(10)] == ["SC-1"]
    assert store.get_impacts(["SC-2"])["SC-2"].done
    store.upsert(shortcut_record(2, updated=9, state="In Progress", state_type="started"))  # reopened
    assert [found.ticket_id for found in store.top_impacts(1)] == ["SC-2"]
    store.upsert(shortcut_record(2, updated=12, state="archived", state_type="done"))
    assert [found.ticket_id for found in store.top_impacts(10)] == ["SC-1"]
    exact(store)


def test_a_ticket_without_a_story_is_done_when_its_tickets_are_and_slack_alone_never_is(store):
    store.upsert(ticket(1))
    store.upsert(report(5))
    store.upsert(ticket(1, updated=5, status="solved"))
    assert [found.ticket_id for found in store.top_impacts(10)] == ["SL-" + report(5).record_id]
    assert store.get_impacts(["ZD-1"])["ZD-1"].done


def test_a_tagged_report_and_aliases_count_under_the_target(store):
    store.upsert(ticket(1))
    store.upsert_linked(report(5), "ZD-1", actor="U1")  # stored under the ticket at once
    found = store.get_impacts(["ZD-1", "SL-" + report(5).record_id])
    assert found["ZD-1"].visible().reports == 1
    assert found["SL-" + report(5).record_id] == found["ZD-1"]  # the alias is followed
    exact(store)


class Died(BaseException):
    """The process dying mid-batch: not an Exception, nothing catches it on the way out."""


def test_a_sync_killed_mid_batch_is_made_exact_by_the_recount(store, monkeypatch):
    store.upsert_many([ticket(n) for n in range(1, 4)])
    batch = [ticket(n, f"r{n}@x", priority="Low") for n in range(10, 70)]
    if hasattr(store.port, "batch_put"):  # DynamoDB: die after the records were written, before their tallies

        def dying(writes):
            raise Died

        monkeypatch.setattr(store.port, "put_new_impacts", dying)
    else:  # SQLite: die after some commits of the batch's transaction
        real_commit, commits = store.port.commit, []

        def dying(writes):  # type: ignore[no-redef]
            commits.append(writes)
            if len(commits) == 30:
                raise Died
            real_commit(writes)

        monkeypatch.setattr(store.port, "commit", dying)
    with pytest.raises(Died):
        store.upsert_many(batch)
    monkeypatch.undo()
    if hasattr(store.port, "batch_put"):
        kept = {found.ticket_id for found in store.scan_impacts()}
        assert len(kept) == 3  # the written records were never tallied

    store.recount()

    exact(store)
    assert store.get_meta(RECOUNT_META)["impact"]["uncorrected"] == 0
    store.upsert_many(batch)  # the rerun
    kept = exact(store)
    assert len(kept) == 63


def test_recount_repairs_a_tally_that_drifted(store):
    store.upsert_many([ticket(1), report(2)])
    found = store.get_impacts(["ZD-1"])["ZD-1"]
    wrong = replace(found, counts={**found.counts, "zendesk": 7}, revision=found.revision + 1)
    store.port.commit([impact_write(found, wrong)])
    assert store.get_impacts(["ZD-1"])["ZD-1"].visible().tickets == 7

    assert store.recount_impacts() == 1

    assert store.get_impacts(["ZD-1"])["ZD-1"].visible().tickets == 1
    exact(store)
    assert store.recount_impacts() == 0


def impact_write(seen, after):
    from storage.primitives import PutImpact

    return PutImpact(seen.ticket_id, after, seen.revision)


def test_migrate_fills_the_tallies_of_records_stored_before_them(store):
    from storage.primitives import PutImpact

    store.upsert(shortcut_record(1))
    store.upsert_many([report(11), ticket(21)])
    store.link("ZD-21", "SC-1", actor="U9")
    for found in list(store.scan_impacts()):  # as a store written before the tallies existed
        store.port.commit([PutImpact(found.ticket_id, None, found.revision)])
    assert list(store.scan_impacts()) == [] and store.top_impacts(5) == []

    store.migrate(progress=lambda line: None)

    kept = exact(store)
    assert set(kept) == {"SC-1", "SL-" + report(11).record_id}
    assert [found.ticket_id for found in store.top_impacts(5)][0] == "SC-1"
