"""The HTTP server's connection handling: a whole-request deadline, and no thread for a client still typing.

One selector thread accepts connections and reads each request's head (request line and headers) without
blocking; a connection gets a thread only once its head is complete. Each connection has `deadline` seconds
from its accept to the end of its answer, however its bytes trickle in: a per-read timeout is not enough,
since a client sending a byte every 5 s never trips a 10 s read timeout and, with a thread each, 32 such
clients held every slot and `/healthz` answered 503 to everyone else. Here they cost a socket each (of
`max_connections`) until their deadline, and complete requests are answered at once beside them.

Nor can one address starve the others (the health probe above all): each address holds at most
`max_per_address` connections (past that, its next ones get 503 at once), and a connection that has not sent
its whole request head within `head_deadline` seconds is dropped (408) long before the whole-request
`deadline`. 300 idle connections from one address leave `/healthz` answering to everyone else.

One request per connection (HTTP/1.0 style `Connection: close`): Prometheus, Grafana and probes open a
connection per request anyway, and a kept-alive connection would need a deadline of its own.

Standard library only: waitress reads heads the same way but has only an inactivity timeout (which a byte
every 5 s resets), and uvicorn/hypercorn bring asyncio and ASGI for four read-only routes.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.worker import Worker

log = logging.getLogger(__name__)

HEAD_LIMIT = 16 * 1024  # request line and headers; Prometheus / Grafana / curl send a few hundred bytes
# Prometheus, Grafana and curl send their head in one packet, within milliseconds of connecting: 2 s is
# generous for any real client on a slow link, and short enough that idle connections give slots back fast.
HEAD_DEADLINE_SECONDS = 2.0
# One scraper, one Grafana (a dashboard load runs its panels' queries a few at a time) and one prober each
# stay far below 64, and 64 leaves room beside a burst of slow clients on the same address (a probe from the
# host the others come from still gets in); one address would need 4 of these to take all 256 slots.
MAX_PER_ADDRESS = 64
_END_OF_HEAD = (b"\r\n\r\n", b"\n\n")


def _plain_answer(status: str, message: str, extra: str = "") -> bytes:
    body = ('{"error": "' + message + '"}').encode()
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}Connection: close\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


BUSY = _plain_answer(
    "503 Service Unavailable", "too many connections; try again shortly", "Retry-After: 1\r\n"
)
TOO_SLOW = _plain_answer("408 Request Timeout", "the request took too long to arrive")
TOO_LARGE = _plain_answer("431 Request Header Fields Too Large", "request headers too large")


@dataclass
class Arrival:
    """A connection whose request head is complete: what a handler thread gets."""

    sock: socket.socket
    address: Any
    head: bytes
    deadline: float  # the server's clock reading by which the answer must be written
    clock: Callable[[], float] = time.monotonic

    def remaining(self) -> float:
        return max(0.05, self.deadline - self.clock())


@dataclass
class _Reading:
    sock: socket.socket
    address: Any
    deadline: float  # of the whole request
    head_deadline: float  # of its head: the selector drops it then
    head: bytearray = field(default_factory=bytearray)


class DeadlineServer:
    """Accepts on `address`; calls `self.answer(arrival)` in a thread of its own for each complete request
    head. At most `max_connections` connections open (reading or answered); past that, 503 at once.
    Deadlines are read on `clock` (seconds, monotonic; tests pass a clock they move by hand)."""

    deadline: float = 10.0
    head_deadline: float = HEAD_DEADLINE_SECONDS
    max_connections: int = 256
    max_per_address: int = MAX_PER_ADDRESS

    def __init__(self, address: tuple[str, int], clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.socket = socket.create_server(address, family=_family(address[0]), backlog=128)
        self.socket.setblocking(False)
        self.server_address = self.socket.getsockname()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.socket, selectors.EVENT_READ)
        self._reading: dict[socket.socket, _Reading] = {}
        self._open = 0
        self._per_address: dict[str, int] = {}
        self._lock = threading.Lock()
        self._selecting: _Selecting | None = None
        self._accept_failed_logged = float("-inf")

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def open_connections(self) -> int:
        """Connections accepted and not closed yet (reading their request or being answered)."""
        with self._lock:
            return self._open

    def answer(self, arrival: Arrival) -> None:  # pragma: no cover - the subclass answers
        raise NotImplementedError

    # -- the selector thread -------------------------------------------------------------------------
    def start_serving(self, name: str) -> None:
        self._selecting = _Selecting(self, name).start()

    def _serve_turn(self) -> None:
        try:
            self._turn()
        except Exception:  # this loop is the transport's only thread: log the unexpected, keep serving
            log.exception("metrics server: connection loop failed; going on")
            time.sleep(0.05)

    def _close(self) -> None:
        for reading in list(self._reading.values()):
            self._drop(reading)
        self._selector.close()
        self.socket.close()

    def _turn(self) -> None:
        for key, _ in self._selector.select(timeout=0.05):
            if key.fileobj is self.socket:
                self._accept()
            elif isinstance(key.fileobj, socket.socket) and (reading := self._reading.get(key.fileobj)):
                self._read(reading)
        self._expire(self.clock())

    def _accept(self) -> None:
        while True:
            try:
                sock, address = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of file descriptors: the next turn tries again
                if self.clock() - self._accept_failed_logged > 60:  # once a minute, not every turn
                    self._accept_failed_logged = self.clock()
                    log.warning("metrics server: could not accept a connection: %s", exc)
                time.sleep(0.05)
                return
            sock.setblocking(False)
            host = _host(address)
            with self._lock:
                held = self._per_address.get(host, 0)
                full = self._open >= self.max_connections or held >= self.max_per_address
                if not full:
                    self._open += 1
                    self._per_address[host] = held + 1
            if full:
                _say_and_close(sock, BUSY)
                continue
            now = self.clock()
            head_by = now + min(self.head_deadline, self.deadline)
            reading = _Reading(sock, address, now + self.deadline, head_by)
            self._reading[sock] = reading
            self._selector.register(sock, selectors.EVENT_READ)

    def _read(self, reading: _Reading) -> None:
        try:
            chunk = reading.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client went away before finishing its request
            self._drop(reading)
            return
        reading.head += chunk
        if any(end in reading.head for end in _END_OF_HEAD):
            self._stop_reading(reading)
            head = bytes(reading.head)
            arrival = Arrival(reading.sock, reading.address, head, reading.deadline, self.clock)
            threading.Thread(
                target=self._answer, args=(arrival,), name="metrics-request", daemon=True
            ).start()
        elif len(reading.head) > HEAD_LIMIT:
            self._drop(reading, TOO_LARGE)

    def _expire(self, now: float) -> None:
        for reading in [r for r in self._reading.values() if r.head_deadline <= now]:
            self._drop(reading, TOO_SLOW)

    def _stop_reading(self, reading: _Reading) -> None:
        self._selector.unregister(reading.sock)
        del self._reading[reading.sock]

    def _drop(self, reading: _Reading, answer: bytes = b"") -> None:
        self._stop_reading(reading)
        _say_and_close(reading.sock, answer)
        self._closed(reading.address)

    def _closed(self, address: Any) -> None:
        host = _host(address)
        with self._lock:
            self._open -= 1
            left = self._per_address.get(host, 1) - 1
            if left > 0:
                self._per_address[host] = left
            else:
                self._per_address.pop(host, None)

    # -- a request's own thread ----------------------------------------------------------------------
    def _answer(self, arrival: Arrival) -> None:
        try:
            arrival.sock.setblocking(True)
            arrival.sock.settimeout(arrival.remaining())
            self.answer(arrival)
        except OSError:  # the client went away or ran out its deadline mid-answer: its own business
            log.debug("metrics server: connection from %s ended early", arrival.address, exc_info=True)
        finally:
            _finish(arrival.sock)
            self._closed(arrival.address)

    def shutdown(self) -> None:
        if self._selecting is not None:
            self._selecting.stop()  # its thread closes the sockets once its loop ended
        else:
            self._close()


class _Selecting(Worker):
    """The selector thread (bot/worker.py): one turn after another (each waits at most 50 ms in select)."""

    def __init__(self, server: DeadlineServer, name: str) -> None:
        super().__init__(name, every=0)
        self.server = server

    def step(self) -> None:
        self.server._serve_turn()

    def finished(self) -> None:
        self.server._close()


def _host(address: Any) -> str:
    """The peer's address without its port (IPv4 and IPv6 tuples alike)."""
    return str(address[0]) if isinstance(address, tuple) and address else str(address)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _finish(sock: socket.socket) -> None:
    """Close after an answer: what the client sent beyond the head (a body we do not read) is drained
    first, since closing with unread bytes sends a reset that can make the client lose the answer."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.setblocking(False)
        while sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()


def _say_and_close(sock: socket.socket, answer: bytes) -> None:
    """Best effort, never blocking: a short answer fits the socket's send buffer; then close."""
    try:
        if answer:
            sock.setblocking(False)
            sock.send(answer)
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
