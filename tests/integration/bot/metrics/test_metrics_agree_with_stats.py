"""Three views of one store agree: Prometheus metrics, `bugtracker stats` and `/bug stats`.

All three read `store.counts()`; this checks each rendering of it against the metrics as scraped.
"""

from __future__ import annotations

import json

import pytest

from bot import cli
from bot.metrics.server import start_metrics_server
from bot.slack import slash as commands
from storage.model import PRIORITIES, SOURCES
from tests.support.metrics_known_store import fill
from tests.support.metrics_scrape import scrape
from tests.support.waiting import wait_until

FAMILY_OF_FIELD = {
    "by_priority": "bugtracker_bugs_by_priority",
    "open_by_priority": "bugtracker_open_bugs_by_priority",
    "by_state": "bugtracker_bugs_by_state",
    "by_state_type": "bugtracker_bugs_by_state_type",
    "by_source": "bugtracker_bugs_by_source",
    "open_by_source": "bugtracker_open_bugs_by_source",
}


@pytest.fixture
def metrics(sqlite_store) -> dict:
    fill(sqlite_store)
    server = start_metrics_server(sqlite_store, port=0)
    try:
        wait_until(lambda: server.collector.snapshot is not None)
        return scrape(f"http://127.0.0.1:{server.port}/metrics")
    finally:
        server.shutdown()


def _labelled(metrics: dict, name: str) -> dict[str, int]:
    """Non-zero values of a one-label family (stats leaves zeros out)."""
    return {key[0]: int(value) for key, value in metrics[name].items() if value}


def test_metrics_equal_store_counts(sqlite_store, metrics) -> None:
    counts = sqlite_store.counts()
    assert metrics["bugtracker_bugs"][()] == counts.total
    assert metrics["bugtracker_bugs_deleted"][()] == counts.deleted
    for field, family in FAMILY_OF_FIELD.items():
        assert _labelled(metrics, family) == {k: v for k, v in getattr(counts, field).items() if v}, field
    assert metrics["bugtracker_slack_reports"] == {
        ("linked",): counts.slack_linked,
        ("unlinked",): counts.slack_unlinked,
    }


def test_bugtracker_stats_json_shows_the_metrics_numbers(sqlite_store, metrics, monkeypatch, capsys) -> None:
    monkeypatch.setenv("BUGTRACKER_DB", sqlite_store.path)
    assert cli.execute(["--json", "stats"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["total"] == metrics["bugtracker_bugs"][()]
    assert stats["deleted"] == metrics["bugtracker_bugs_deleted"][()]
    assert stats["open_by_priority"] == _labelled(metrics, "bugtracker_open_bugs_by_priority")
    assert stats["by_state"] == _labelled(metrics, "bugtracker_bugs_by_state")
    assert stats["by_source"] == _labelled(metrics, "bugtracker_bugs_by_source")
    assert stats["slack_linked"] == metrics["bugtracker_slack_reports"][("linked",)]


def test_slash_bug_stats_shows_the_metrics_numbers(sqlite_store, metrics) -> None:
    reply = commands.dispatch(sqlite_store, "stats", user="U0TEST")
    shown = json.dumps(reply.blocks)
    assert f"{int(metrics['bugtracker_bugs'][()])} bug records" in shown
    open_by_priority = metrics["bugtracker_open_bugs_by_priority"]
    for priority in (*PRIORITIES, "none"):
        assert f"{priority} {int(open_by_priority[(priority,)])}" in shown, priority
    open_by_source = metrics["bugtracker_open_bugs_by_source"]
    for source in SOURCES:
        assert f"{source.capitalize()} {int(open_by_source[(source,)])}" in shown, source
    linked, unlinked = (int(metrics["bugtracker_slack_reports"][(k,)]) for k in ("linked", "unlinked"))
    assert f"{linked} linked, {unlinked} unlinked" in shown
