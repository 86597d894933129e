"""The metrics server over real HTTP on 127.0.0.1: /metrics, /healthz and the drill-down JSON."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.metrics import registry
from bot.metrics.bug_counts import BugCountsCollector
from bot.metrics.server import MetricsServerError, start_metrics_server
from storage.errors import StoreUnavailable
from tests.support.metrics_api import API_ACCESS, AUTHORIZATION
from tests.support.metrics_known_store import EXPECTED, RECORDS, TODAY, fill
from tests.support.metrics_scrape import scrape
from tests.support.waiting import wait_until


@dataclass
class FakeBot:
    mode: str
    connected: bool = False

    def is_connected(self) -> bool:
        return self.connected


class UnreachableStore:
    """A store whose table is gone: check() and every read fail the way the real stores do."""

    def check(self) -> None:
        raise StoreUnavailable("cannot reach the table BugTracker (test)")

    def counts(self):
        raise StoreUnavailable("cannot reach the table BugTracker (test)")

    new_per_day = list_records = counts


def _collector(store, refresh_seconds):
    return BugCountsCollector(store, refresh_seconds, today=lambda: TODAY)


def _serve(store, bot=None):
    return start_metrics_server(
        store, port=0, refresh_seconds=60, bot=bot, collector_factory=_collector, access=API_ACCESS
    )


@pytest.fixture
def server(sqlite_store) -> Iterator:
    running = _serve(fill(sqlite_store))
    wait_until(lambda: running.collector.snapshot is not None)
    yield running
    running.shutdown()


def get(server, path: str) -> tuple[int, dict]:
    try:
        target = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", headers=AUTHORIZATION)
        with urllib.request.urlopen(target, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_metrics_serves_bug_counts_and_the_telemetry_objects(server) -> None:
    registry.EVENTS_HANDLED.labels("message").inc()
    samples = scrape(f"http://127.0.0.1:{server.port}/metrics")
    assert samples["bugtracker_bugs_by_source"] == EXPECTED["bugtracker_bugs_by_source"]
    assert samples["bugtracker_events_handled_total"][("message",)] >= 1
    assert "bugtracker_socket_mode_connected" in samples


def test_healthz_is_ok_with_a_reachable_store_and_no_bot(server) -> None:
    assert get(server, "/healthz") == (
        200,
        {"status": "ok", "store": "ok", "slack": "not used (metrics only)"},
    )


@pytest.mark.parametrize(
    ("bot", "status", "slack"),
    [
        (FakeBot("slack", connected=True), 200, "connected"),
        (FakeBot("slack", connected=False), 503, "Socket Mode connection is down"),
        (FakeBot("console"), 200, "not used (console mode)"),
        (FakeBot("starting"), 503, "bot is starting"),
    ],
)
def test_healthz_follows_the_socket_mode_connection(sqlite_store, bot, status, slack) -> None:
    running = _serve(sqlite_store, bot=bot)
    try:
        code, body = get(running, "/healthz")
    finally:
        running.shutdown()
    assert (code, body["slack"], body["store"]) == (status, slack, "ok")
    assert body["status"] == ("ok" if status == 200 else "unhealthy")


def _with_failures(samples: dict) -> dict | None:
    return samples if samples.get("bugtracker_counts_refresh_failures_total", {}).get((), 0) else None


def test_healthz_says_the_store_is_unreachable_without_its_error_text() -> None:
    running = _serve(UnreachableStore(), bot=FakeBot("slack", connected=True))
    try:
        code, body = get(running, "/healthz")
        samples = wait_until(  # still serves, says it failed
            lambda: _with_failures(scrape(f"http://127.0.0.1:{running.port}/metrics"))
        )
    finally:
        running.shutdown()
    assert samples["bugtracker_counts_refresh_failures_total"] == {(): 1}
    assert "bugtracker_bugs" not in samples
    assert code == 503
    assert body == {
        "status": "unhealthy",
        "store": "unavailable (the bot's log says why)",  # no table name, path or endpoint for anyone
        "slack": "connected",
    }


def test_bugs_by_priority_link_to_their_pages(server) -> None:
    code, body = get(server, "/api/bugs?priority=High&state=&source=")
    assert code == 200
    assert [(row["ticket_id"], row["url"]) for row in body["bugs"]] == [
        ("ZD-1", "https://acme.zendesk.com/agent/tickets/1")
    ]


def test_bugs_page_through_with_the_cursor(server) -> None:
    seen, cursor = [], ""
    for _ in range(10):
        code, body = get(server, f"/api/bugs?source=slack&limit=1&cursor={cursor}")
        assert code == 200
        seen += [row["home_id"] for row in body["bugs"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    slack_ids = [record.home_id for record in RECORDS if record.source_system == "slack"]
    assert sorted(seen) == sorted(slack_ids)
    assert len(seen) == len(slack_ids)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?colour=red", "cannot list by 'colour'"),
        ("?priority=urgentish", "'urgentish' is not a priority"),
        ("?source=jira", "unknown source 'jira'"),
        ("?source=slack&since=yesterday", "needs a date like"),
        ("?source=slack&cursor=garbage", "cursor"),
        ("?source=slack&limit=100000", "limit must be"),
    ],
)
def test_bad_filters_get_a_400_saying_what_is_wrong(server, query, message) -> None:
    code, body = get(server, f"/api/bugs{query}")
    assert code == 400
    assert message in body["error"]


def test_a_linked_slack_report_shows_its_ticket_with_every_page(server) -> None:
    slack_home = RECORDS[7].home_id
    code, body = get(server, f"/api/tickets/{slack_home}")
    assert code == 200
    assert (body["requested_id"], body["ticket_id"]) == (slack_home, "ZD-1")
    assert sorted(body["links"]) == ["slack", "zendesk"]
    assert body["links"]["zendesk"] == ["https://acme.zendesk.com/agent/tickets/1"]
    assert {row["source"] for row in body["records"]} == {"slack", "zendesk"}
    assert [entry["action"] for entry in body["audit"]] == ["link"]


def test_an_id_with_leading_zeros_is_the_same_ticket(server) -> None:
    code, body = get(server, "/api/tickets/zd-0001")
    assert code == 200 and (body["requested_id"], body["ticket_id"]) == ("ZD-1", "ZD-1")
    assert {row["source"] for row in body["records"]} == {"slack", "zendesk"}


@pytest.mark.parametrize(("path", "status"), [("/api/tickets/ZD-424242", 404), ("/api/tickets/nope", 400)])
def test_unknown_or_malformed_ticket_ids(server, path, status) -> None:
    code, body = get(server, path)
    assert code == status
    assert body["error"]


def test_unknown_paths_are_404(server) -> None:
    assert get(server, "/admin")[0] == 404


def test_a_taken_port_is_a_one_line_error(sqlite_store) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsServerError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            start_metrics_server(sqlite_store, port=port)


def test_every_variable_on_all_lists_every_bug(server) -> None:
    """Grafana sends `priority=&source=&state=` when every variable is on "All": every bug, newest first, as
    `bugtracker list` and `/bug list` alone do (the dashboard's drill-down starts there)."""
    code, body = get(server, "/api/bugs?priority=&source=&state=&limit=200")
    assert code == 200
    assert {row["source"] for row in body["bugs"]} == {"slack", "zendesk", "shortcut"}
