"""The bot as a process (real SocketModeHandler on the fake Slack) with METRICS_PORT and HEALTH_PORT: `/api`
without the token is refused, `Host: evil.example` gets 421, and `/healthz` and `/readyz` keep answering
(200, never a wait for a free slot) while 32 slow clients send their requests a byte every 5 seconds."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import threading

import pytest

from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support.processes import child_env, start_entry_point, stop_bot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"
SLOW_CLIENTS = 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ask(port: int, path: str, headers: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def trickle(port: int, stop: threading.Event, sent: list[int]) -> None:
    """A client on another host (127.0.0.2, as far as the server knows) sending `GET /healthz` a byte every
    5 seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=("127.0.0.2", 0)) as sock:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n":
            sock.sendall(bytes([byte]))
            sent.append(1)
            if stop.wait(5):
                return


def test_api_host_and_health_under_32_slow_clients(tmp_path):
    store = SqliteStore(tmp_path / "bugs.db")
    store.init()
    metrics_port, health_port = free_port(), free_port()
    env = child_env(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_APP_TOKEN="xapp-test-token",
                    SLACK_CHANNEL_ID=CHANNEL, BUGTRACKER_DB=str(store.path), METRICS_PORT=str(metrics_port),
                    HEALTH_PORT=str(health_port), SLACK_STATUS_UPDATES="off")  # fmt: skip
    stop, sent = threading.Event(), []
    with FakeSlack() as fake:
        bot = start_entry_point("bot", cwd=tmp_path, env={**env, "SLACK_API_URL": fake.api_url},
                                stderr=subprocess.STDOUT)  # fmt: skip
        clients = [
            threading.Thread(target=trickle, args=(metrics_port, stop, sent)) for _ in range(SLOW_CLIENTS)
        ]
        try:
            fake.wait_for(lambda: fake.connections, timeout=30)
            wait_until(lambda: ask(metrics_port, "/healthz")[0] == 200, timeout=20, interval=0.2)
            api = ask(metrics_port, "/api/bugs?source=slack")
            evil = ask(metrics_port, "/healthz", {"Host": "evil.example"})
            for client in clients:
                client.start()
            wait_until(lambda: len(sent) >= SLOW_CLIENTS, timeout=10)
            answers = []

            def asked_through_a_gap() -> bool:  # asks again and again until every slow client sent again
                answers.append(ask(metrics_port, "/healthz"))
                answers.append(ask(health_port, "/readyz"))
                return len(sent) >= 2 * SLOW_CLIENTS

            wait_until(asked_through_a_gap, timeout=60, interval=0.5)
            still_sending = len(sent)
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=10)
            output = stop_bot(bot)  # killed if it does not stop within the bound
    assert "Traceback" not in output
    assert api[0] == 404 and "METRICS_API_TOKEN" in api[1]["error"]
    assert evil[0] == 421
    assert still_sending >= 2 * SLOW_CLIENTS  # each slow client sent a second byte 5 s later
    assert len(answers) > 2 and [status for status, _ in answers] == [200] * len(
        answers
    )  # none waited for a slot
    assert answers[0][1] == {"status": "ok", "store": "ok", "slack": "connected"}
