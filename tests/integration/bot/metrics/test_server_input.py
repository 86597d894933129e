"""Bad drill-down input over real HTTP is a 4xx with a one-line JSON error, never a 500; slow or too many
clients cannot hold the server (a whole-request deadline, a bounded number of connections)."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.metrics.bug_counts import BugCountsCollector
from bot.metrics.server import MetricsServer, start_metrics_server
from tests.support.metrics_api import API_ACCESS, AUTHORIZATION
from tests.support.metrics_known_store import TODAY, fill
from tests.support.waiting import wait_until


def _collector(store, refresh_seconds):
    return BugCountsCollector(store, refresh_seconds, today=lambda: TODAY)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from storage.sqlite import SqliteStore

    store = SqliteStore(tmp_path_factory.mktemp("drill") / "bugs.db")
    store.init()
    running = start_metrics_server(fill(store), port=0, collector_factory=_collector, access=API_ACCESS)
    yield running
    running.shutdown()
    store.close()


def request(server, target: str) -> tuple[int, dict]:
    """GET the raw target (already percent-encoded as a client would send it)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", target, headers=AUTHORIZATION)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("source=slack&limit=%C2%B2", "limit must be a whole number from 1 to 200"),
        ("source=slack&limit=%D9%A3", "limit must be a whole number"),
        ("source=slack&cursor=MQ", "page cursor is not one this store gave out"),
        ("source=slack&since=9999-12-31T23:59:59-01:00", "since needs a date"),
        ("source=slack&since=9999-12-31T23%3A59%3A59-01%3A00", "since needs a date"),
        ("source=slack&until=0001-01-01T00:00:00%2B01:00", "until needs a date"),
        ("source=slack&since=2026-12-01&until=2026-11-01", "is after until"),
        ("source=slack&cursor=%00%FF", "page cursor"),
        ("state=%00", "printable"),
        ("colour=red", "cannot list by 'colour'"),
        ("&".join(f"p{n}=1" for n in range(50)), "at most 20 query parameters"),
    ],
)
def test_bad_inputs_are_400_with_a_message(served, query, message):
    status, body = request(served, f"/api/bugs?{query}")
    assert status == 400 and message in body["error"], body


def test_source_is_read_as_the_cli_reads_it(served):
    upper = request(served, "/api/bugs?source=Slack")
    lower = request(served, "/api/bugs?source=slack")
    assert upper[0] == 200 and upper == lower and upper[1]["bugs"]
    assert request(served, "/api/bugs?priority=p1")[1] == request(served, "/api/bugs?priority=High")[1]


_tricky = ["", "slack", "Slack", "High", "p1", "open", "MQ", "9999-12-31T23:59:59-01:00", "2026-11-01",
           "0", "²", "201", "-1", "%", "%ZZ", "%C2%B2", "%00", "&", "="]  # fmt: skip
_values = st.sampled_from(_tricky) | st.text(max_size=40)
_names = st.sampled_from(["priority", "state", "source", "since", "until", "cursor", "limit", "x"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_names, _values), max_size=6))
def test_fuzzed_drilldown_queries_never_500(served, pairs):
    query = "&".join(f"{name}={quote(value, safe='%&=')}" for name, value in pairs)
    status, body = request(served, f"/api/bugs?{query}")
    assert status in (200, 400), (status, body)
    assert ("bugs" in body) if status == 200 else (body["error"] and "Traceback" not in body["error"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_fuzzed_ticket_paths_never_500(served, ticket):
    status, body = request(served, "/api/tickets/" + quote(ticket, safe=""))
    assert status in (200, 400, 404) and ("error" in body or "records" in body)


def test_connections_past_the_bound_get_a_503_at_once(sqlite_store, monkeypatch):
    monkeypatch.setattr(MetricsServer, "max_connections", 2)
    monkeypatch.setattr(MetricsServer, "deadline", 5.0)
    running = start_metrics_server(sqlite_store, port=0, collector_factory=_collector)
    held = [socket.create_connection(("127.0.0.1", running.port), timeout=5) for _ in range(2)]
    try:
        # both slots are taken by clients that send nothing; the next one is told so, not queued
        def busy():
            with socket.create_connection(("127.0.0.1", running.port), timeout=5) as extra:
                extra.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                answer = extra.recv(4096)
            return answer if answer.startswith(b"HTTP/1.1 503") else None

        answer = wait_until(busy, timeout=5)
        assert b"too many connections" in answer
    finally:
        for sock in held:
            sock.close()
    try:
        assert wait_until(lambda: _ok(running), timeout=5)  # slots come back when clients leave
    finally:
        running.shutdown()


def _ok(server) -> bool:
    try:
        return request(server, "/healthz")[0] == 200
    except (OSError, json.JSONDecodeError, http.client.HTTPException):
        return False


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405_not_a_server_error(served, method):
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        connection.request(method, "/api/bugs?source=slack", body=b"{}")
        response = connection.getresponse()
        assert response.status == 405 and response.getheader("Allow") == "GET"
        assert "use GET" in json.loads(response.read())["error"]
    finally:
        connection.close()


def test_an_address_past_its_share_is_told_at_once(sqlite_store, monkeypatch):
    monkeypatch.setattr(MetricsServer, "max_per_address", 2)
    running = start_metrics_server(sqlite_store, port=0, collector_factory=_collector)
    held = []
    try:
        for _ in range(2):
            sock = socket.socket()
            sock.bind(("127.0.0.2", 0))
            sock.connect(("127.0.0.1", running.port))
            held.append(sock)

        def busy():
            with socket.socket() as extra:
                extra.bind(("127.0.0.2", 0))
                extra.settimeout(5)
                extra.connect(("127.0.0.1", running.port))
                extra.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                answer = extra.recv(4096)
            return answer if answer.startswith(b"HTTP/1.1 503") else None

        assert b"too many connections" in wait_until(busy, timeout=5)
        assert request(running, "/healthz")[0] == 200  # another address is served meanwhile
    finally:
        for sock in held:
            sock.close()
        running.shutdown()
