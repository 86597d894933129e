"""The HTTP server over real sockets: /metrics and /healthz open, /api only with the token, a foreign Host
refused, the health port serving health alone (deadlines: test_connections.py)."""

from __future__ import annotations

import http.client
import json

import pytest

from bot.metrics.access import Access
from bot.metrics.server import MetricsServer, start_health_server, start_metrics_server
from tests.support.metrics_api import API_TOKEN, AUTHORIZATION


def ask(server, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def serve(sqlite_store):
    started = []

    def start(access: Access | None = None) -> MetricsServer:
        server = start_metrics_server(sqlite_store, port=0, access=access)
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()


def test_without_a_token_the_api_is_404_with_a_hint_and_the_rest_is_open(serve):
    server = serve()
    status, body = ask(server, "/api/bugs?source=slack", AUTHORIZATION)
    assert status == 404 and "set METRICS_API_TOKEN" in json.loads(body)["error"]
    assert ask(server, "/healthz")[0] == 200
    assert ask(server, "/metrics")[0] == 200


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-0123456789", f"Basic {API_TOKEN}"])
def test_with_a_token_the_api_answers_only_the_bearer_of_it(serve, authorization):
    server = serve(Access(api_token=API_TOKEN))
    status, body = ask(
        server, "/api/bugs?source=slack", {"Authorization": authorization} if authorization else {}
    )
    assert status == 404 and "Authorization: Bearer <METRICS_API_TOKEN>" in json.loads(body)["error"]
    assert API_TOKEN.encode() not in body
    assert ask(server, "/api/bugs?source=slack", AUTHORIZATION)[0] == 200
    assert ask(server, "/api/tickets/ZD-1", AUTHORIZATION)[0] == 404  # answered: no such ticket


@pytest.mark.parametrize("path", ["/healthz", "/metrics", "/api/bugs?source=slack"])
def test_a_foreign_host_is_421_on_every_path(serve, path):
    server = serve(Access(api_token=API_TOKEN, allowed_hosts=frozenset({"metrics.internal"})))
    status, body = ask(server, path, {**AUTHORIZATION, "Host": "evil.example"})
    assert status == 421 and "METRICS_ALLOWED_HOSTS" in json.loads(body)["error"]
    assert ask(server, path, {**AUTHORIZATION, "Host": f"localhost:{server.port}"})[0] == 200
    assert ask(server, path, {**AUTHORIZATION, "Host": "metrics.internal"})[0] == 200


def test_the_health_port_serves_health_and_nothing_else(sqlite_store):
    server = start_health_server(sqlite_store, port=0, access=Access(api_token=API_TOKEN))
    try:
        assert ask(server, "/healthz")[0] == 200
        status, body = ask(server, "/readyz")
        assert status == 200 and json.loads(body)["store"] == "ok"
        for path in ("/metrics", "/api/bugs?source=slack"):
            status, body = ask(server, path, AUTHORIZATION)
            assert status == 404 and "serves /healthz and /readyz" in json.loads(body)["error"]
        assert ask(server, "/healthz", {"Host": "evil.example"})[0] == 421
    finally:
        server.shutdown()
