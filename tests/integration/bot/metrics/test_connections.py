"""The HTTP servers' connection handling (bot/metrics/connections.py) over real sockets, on a clock the test
moves by hand: a request that trickles in or idles is cut at its deadline (408) and not a tick before, and
one address holding hundreds of idle connections leaves everyone else answered. No wall-clock window: the
server's deadlines are read on the test's clock, and the test waits on conditions."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator

import pytest

from bot.metrics.connections import Arrival, DeadlineServer
from tests.support.waiting import wait_until

DEADLINE = 1.0


class HandClock:
    """A monotonic clock that moves only when the test says; counts its readings (the selector reads it
    once a turn, so two more readings mean a whole turn ran on the current time)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return self.now

    def a_turn_later(self) -> None:
        seen = self.readings
        wait_until(lambda: self.readings >= seen + 2)


class Hello(DeadlineServer):
    """The connection layer with the least answer: 200 and close."""

    deadline = DEADLINE
    head_deadline = DEADLINE

    def answer(self, arrival: Arrival) -> None:
        arrival.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


@pytest.fixture
def clock() -> HandClock:
    return HandClock()


@pytest.fixture
def server(clock: HandClock) -> Iterator[Hello]:
    running = Hello(("127.0.0.1", 0), clock=clock)
    running.start_serving("test-http")
    yield running
    running.shutdown()


def status_of_a_request(server: DeadlineServer) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def nothing_received(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        sock.recv(1024)
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
    return False


def test_a_request_that_trickles_in_is_cut_at_its_deadline_not_at_a_read_timeout(server, clock):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as slow:
        wait_until(lambda: server.open_connections == 1)  # accepted at 0.0: cut at 1.0
        for byte in b"GET /healthz HTTP/1.1\r\nX-Pad":  # a byte every tenth of the deadline: never idle
            slow.sendall(bytes([byte]))
            clock.now = min(clock.now + DEADLINE / 10, 0.9)
        clock.a_turn_later()
        assert nothing_received(slow)  # at 0.9 still reading, bytes still coming
        clock.now = DEADLINE
        answer = slow.recv(1024)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert slow.recv(1024) == b""  # told, then closed
    wait_until(lambda: server.open_connections == 0)
    assert status_of_a_request(server) == 200  # and the server goes on serving


def test_an_idle_client_is_dropped_at_the_deadline(server, clock, caplog):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as idle:
        idle.sendall(b"GET /healthz HTTP/1.1\r\n")  # and never finishes the request
        wait_until(lambda: server.open_connections == 1)
        clock.now = DEADLINE - 0.01
        clock.a_turn_later()
        assert nothing_received(idle)
        assert status_of_a_request(server) == 200  # answered beside it
        clock.now = DEADLINE + 1
        assert idle.recv(1024).startswith(b"HTTP/1.1 408")
        assert idle.recv(1024) == b""
    wait_until(lambda: server.open_connections == 0)
    assert "Traceback" not in caplog.text


def test_idle_connections_from_another_address_leave_everyone_else_answered(server, clock):
    """300 idle connections from 127.0.0.2 (another host, as far as the server knows), on a clock that never
    moves, so no deadline frees a slot: each address holds at most `max_per_address`, and a request from
    127.0.0.1 is answered (without the per-address cap it would find every slot taken: 503)."""
    idle = []
    try:
        for _ in range(300):
            sock = socket.socket()
            sock.bind(("127.0.0.2", 0))
            sock.settimeout(30)
            try:
                sock.connect(("127.0.0.1", server.port))
            except OSError:  # refused past the listen backlog: as good as idle for this test
                sock.close()
                continue
            idle.append(sock)
        assert len(idle) >= 256  # more than the server's whole budget, from one address
        wait_until(lambda: server.open_connections == Hello.max_per_address)  # the rest were told 503
        for attempt in range(3):
            assert status_of_a_request(server) == 200, attempt
        assert clock.now == 0.0
    finally:
        for sock in idle:
            sock.close()
