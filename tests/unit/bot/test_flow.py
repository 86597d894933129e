"""Flow times over the embedded store: a link and a done story give samples (histograms and the kept days),
and `bugtracker stats --flow` prints their medians and 90th percentiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cli import main
from bot.flow import FlowLog, summarise
from bot.metrics.registry import FLOW_TO_DONE, FLOW_TO_LINK
from storage.model import format_timestamp
from storage.observed import ObservedStore
from tests.support.builders import shortcut_record, slack_record, zendesk_record


def count(histogram, priority: str, source: str) -> float:
    return histogram.labels(priority, source)._sum.get()


def test_links_and_a_done_story_give_flow_times(sqlite_store, capsys):
    now = [datetime.now(UTC).replace(microsecond=0)]  # links are audited at the real time
    two_hours_ago = format_timestamp(now[0] - timedelta(hours=2))
    flow = FlowLog(sqlite_store, clock=lambda: now[0])
    store = ObservedStore(sqlite_store, lambda records: None, linked=flow.linked)
    store.upsert(shortcut_record(7))
    store.upsert_many(
        [slack_record(1, priority="High", created_at=two_hours_ago), zendesk_record(2, priority="Low")]
    )
    linked_before = count(FLOW_TO_LINK, "High", "slack")

    store.link(slack_record(1).home_id, "SC-7", actor="U1")  # two hours after the report
    store.link("ZD-2", "SC-7", actor="U1")
    store.upsert_linked(slack_record(3), "SC-7", actor="U1")  # a tagged report: linked as it is stored

    assert count(FLOW_TO_LINK, "High", "slack") - linked_before == 7200
    now[0] += timedelta(days=1)
    done_before = count(FLOW_TO_DONE, "none", "slack")
    flow.records_changed([shortcut_record(7, updated=5, state="Done", state_type="done")])
    flow.records_changed([shortcut_record(7, updated=6, state="Done", state_type="done")])  # once
    assert count(FLOW_TO_DONE, "none", "slack") - done_before > 86_000  # a day after its tagged link

    assert summarise(sqlite_store, now=now[0]) == []  # buffered: no store request per link
    flow.flush()
    found = {(s.kind, s.group): s for s in summarise(sqlite_store, now=now[0])}
    assert found[("link", "all")].count == 3 and found[("done", "all")].count == 3
    assert found[("link", "High")].median == 7200
    assert found[("done", "all")].median > 86_000
    assert summarise(sqlite_store, now=now[0] + timedelta(days=40)) == []  # older than 30 days


def test_stats_flow_prints_medians_and_p90(tmp_path, capsys, monkeypatch):
    from storage.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "bugs.db")
    store.init()
    today = datetime.now(UTC).date().isoformat()
    store.put_meta(f"flow:{today}", {"link": [[60.0, "High", "slack"], [7200.0, "High", "zendesk"]]})
    store.close()
    assert main(["--db", str(tmp_path / "bugs.db"), "stats", "--flow"]) == 0
    out = capsys.readouterr().out
    assert "first report -> link" in out and "MEDIAN" in out and "P90" in out and "High" in out


def test_a_link_at_the_shell_is_sampled_too(tmp_path, capsys):
    from storage.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "bugs.db")
    store.init()
    store.upsert_many([slack_record(1), zendesk_record(2)])
    store.close()
    assert main(["--db", str(tmp_path / "bugs.db"), "link", slack_record(1).home_id, "ZD-2"]) == 0
    found = {(s.kind, s.group): s for s in summarise(SqliteStore(tmp_path / "bugs.db"))}
    assert found[("link", "all")].count == 1
