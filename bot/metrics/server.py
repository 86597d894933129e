"""One small HTTP server beside the bot: `/metrics`, `/healthz`, `/readyz` and the drill-down JSON under
`/api/`; and, on `HEALTH_PORT`, a second one serving only `/healthz` and `/readyz` for an outside probe.

Standard library only (bot/metrics/connections.py says why): four read-only routes do not earn a web
framework. A thread per complete request, so that a slow store read behind `/api/bugs` never holds up a
Prometheus scrape (which only reads the counts snapshot); who may ask what is bot/metrics/access.py.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from bot.metrics import drilldown, registry
from bot.metrics.access import Access
from bot.metrics.bug_counts import BugCountsCollector
from bot.metrics.connections import Arrival, DeadlineServer
from storage.errors import BugTrackerError, StoreUnavailable, TicketNotFound
from storage.store import BugStore

log = logging.getLogger(__name__)

REQUEST_DEADLINE_SECONDS = 10.0  # from a connection's accept to the end of its answer
MAX_CONNECTIONS = 256  # open at once; a client still sending its request costs a socket, not a thread
MAX_QUERY_FIELDS = 20
HEALTH_PATHS = ("/healthz", "/readyz")


class MetricsServerError(BugTrackerError):
    pass


class BotStatusLike(Protocol):
    """What run.py's BotStatus offers: mode "starting" / "slack" / "console", and the socket state."""

    mode: str

    def is_connected(self) -> bool: ...


UNAVAILABLE = "unavailable (the bot's log says why)"
WRITES_FAILING = "writes failing (the bot's log says why)"


@dataclass
class Health:
    store: BugStore
    bot: BotStatusLike | None  # None: `bugtracker metrics`, no bot in this process
    _logged: str | None = field(default=None, init=False, repr=False)

    def _tell_log(self, line: str) -> None:
        """The reason, logged once while it stays the same (probes ask every few seconds)."""
        if line != self._logged:
            self._logged = line
            log.warning("%s", line)

    def report(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, body): healthy only when the store answers and Slack is connected (if it is used)."""
        body: dict[str, Any] = {}
        # anyone may ask: the answer names no file path, endpoint or error text (the log has them)
        try:
            self.store.check()
            body["store"] = "ok"
        except BugTrackerError as exc:
            body["store"] = UNAVAILABLE
            self._tell_log(f"/healthz: the store is unavailable: {exc}")
        store_problem = getattr(self.bot, "store_problem", None)
        problem = store_problem() if callable(store_problem) else None
        if problem and body["store"] == "ok":  # it answers a read, but the intake's writes fail (a lock)
            body["store"] = WRITES_FAILING
            self._tell_log(f"/healthz: {problem}")
        slack_ok = True
        if self.bot is None:
            body["slack"] = "not used (metrics only)"
        elif self.bot.mode == "console":
            body["slack"] = "not used (console mode)"
        elif self.bot.mode == "slack":
            slack_ok = bool(self.bot.is_connected())
            body["slack"] = "connected" if slack_ok else "Socket Mode connection is down"
        else:
            slack_ok = False
            body["slack"] = f"bot is {self.bot.mode}"
        healthy = body["store"] == "ok" and slack_ok
        body["status"] = "ok" if healthy else "unhealthy"
        return healthy, body


class _Exposition(Collector):
    """The process's metric objects (bot/metrics/registry.py) plus the bug counts, as one scrape."""

    def __init__(self, collector: BugCountsCollector) -> None:
        self.collector = collector

    def collect(self) -> Iterator[Metric]:
        yield from registry.REGISTRY.collect()
        yield from self.collector.collect()


class _DeadlineWriter(io.BufferedIOBase):
    """The answer's socket writes, each given what is left of the request's deadline (sendall's timeout
    bounds a whole write, not each piece of it)."""

    def __init__(self, arrival: Arrival) -> None:
        self.arrival = arrival

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.arrival.sock.settimeout(self.arrival.remaining())
        self.arrival.sock.sendall(data)
        return len(data)


class _Handler(BaseHTTPRequestHandler):
    # our own selector server, not a socketserver.BaseServer: the handler reads only MetricsServer's fields
    server: MetricsServer  # type: ignore[assignment]

    def __init__(self, arrival: Arrival, server: MetricsServer) -> None:
        self.arrival = arrival
        super().__init__(arrival.sock, arrival.address, server)  # type: ignore[arg-type]  # as above

    def setup(self) -> None:
        """The head was read by the selector thread (connections.py); the answer goes out in its deadline."""
        self.connection = self.request
        self.rfile = io.BytesIO(self.arrival.head)
        self.wfile = _DeadlineWriter(self.arrival)

    def finish(self) -> None:
        pass  # nothing buffered; the server closes the socket

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        self.close_connection = True  # one request per connection: the deadline covers exactly one
        local_address = self.connection.getsockname()[0]
        if not self.server.access.host_allowed(self.headers.get("Host"), local_address):
            self._json(421, {"error": "this server does not answer for that Host; name it in"
                             " METRICS_ALLOWED_HOSTS to reach it by that name"})  # fmt: skip
            return False
        return True

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        try:
            query = dict(parse_qsl(parts.query, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS))
        except ValueError:
            self._json(400, {"error": f"at most {MAX_QUERY_FIELDS} query parameters"})
            return
        try:
            if parts.path in HEALTH_PATHS:
                healthy, body = self.server.health.report()
                self._json(200 if healthy else 503, body)
            elif self.server.exposition is None:  # HEALTH_PORT
                self._json(
                    404, {"error": f"no such path {parts.path}; this port serves /healthz and /readyz"}
                )
            elif parts.path == "/metrics":
                encoder, content_type = choose_encoder(self.headers.get("Accept") or "")
                self._send(200, encoder(self.server.exposition), content_type)
            elif parts.path.startswith("/api/") and not self.server.access.api_allowed(
                self.headers.get("Authorization")
            ):
                self._json(404, {"error": self.server.access.api_refusal()})
            elif parts.path == "/api/bugs":
                self._json(200, drilldown.list_bugs(self.server.store, query))
            elif parts.path == "/api/top":
                self._json(200, drilldown.top(self.server.store, query))
            elif parts.path.startswith("/api/tickets/"):
                ticket_id = unquote(parts.path.removeprefix("/api/tickets/"))
                self._json(200, drilldown.ticket(self.server.store, ticket_id))
            else:
                self._json(404, {"error": f"no such path {parts.path}; try /metrics, /healthz, /api/bugs"})
        except StoreUnavailable as exc:
            self._json(503, {"error": str(exc)})
        except TicketNotFound as exc:
            self._json(404, {"error": str(exc)})
        except BugTrackerError as exc:  # bad filter, bad id, bad cursor: the message says which
            self._json(400, {"error": str(exc)})
        except (ConnectionError, TimeoutError):
            raise  # the client left or ran out its deadline mid-answer: connections.py ends it quietly
        except Exception:  # the one handler of the unexpected for this transport: log it, answer 500
            log.exception("metrics server failed on %s", parts.path)
            self._json(500, {"error": "internal error; see the bot's log"})

    def _not_allowed(self) -> None:
        """Read-only: any other method is the client's mistake (405), not a server error (501)."""
        payload = json.dumps({"error": f"{self.command} is not supported here; use GET"}).encode()
        self.send_response(405)
        self.send_header("Allow", "GET")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class MetricsServer(DeadlineServer):
    """At most `max_connections` connections at once (past that: an immediate 503 and close), each given
    `deadline` seconds from accept to answer however slowly it sends (then 408 and close)."""

    deadline = REQUEST_DEADLINE_SECONDS
    max_connections = MAX_CONNECTIONS

    def __init__(
        self,
        address: tuple[str, int],
        store: BugStore,
        collector: BugCountsCollector | None,
        health: Health,
        access: Access | None = None,
    ) -> None:
        super().__init__(address)
        self.store = store
        self.collector = collector
        self.health = health
        self.access = access or Access()
        self.health_only = collector is None  # HEALTH_PORT: /healthz and /readyz, nothing else
        self.exposition = _Exposition(collector) if collector is not None else None

    def answer(self, arrival: Arrival) -> None:
        _Handler(arrival, self)

    def start(self) -> MetricsServer:
        if self.collector is not None:
            self.collector.start()
        self.start_serving("health-http" if self.health_only else "metrics-http")
        host, port = self.server_address[0], self.port
        if self.collector is None:
            log.info("health checks: http://%s:%d/healthz and /readyz", host, port)
        else:
            every = self.collector.refresh_seconds
            log.info("metrics: http://%s:%d/metrics (counts refreshed every %ss)", host, port, every)
        return self

    def shutdown(self) -> None:
        super().shutdown()
        if self.collector is not None:
            self.collector.stop()

    def stop(self, timeout: float = 5.0) -> bool:
        """The service rule of bot/worker.py: stop serving (the selector thread joined within its bound)."""
        self.shutdown()
        return True


def build_metrics_server(
    store: BugStore,
    port: int,
    host: str = "127.0.0.1",
    refresh_seconds: float = 60,
    bot: BotStatusLike | None = None,
    collector_factory: Callable[[BugStore, float], BugCountsCollector] = BugCountsCollector,
    access: Access | None = None,
) -> MetricsServer:
    """/metrics, /healthz and the API bound to host:port (port 0: any free port, see `.port`); `start()`
    serves until `stop()`."""
    collector = collector_factory(store, refresh_seconds)
    try:
        return MetricsServer((host, port), store, collector, Health(store, bot), access)
    except OSError as exc:  # port taken, address not ours: the person who set METRICS_PORT can fix it
        raise MetricsServerError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}") from exc


def start_metrics_server(
    store: BugStore,
    port: int,
    host: str = "127.0.0.1",
    refresh_seconds: float = 60,
    bot: BotStatusLike | None = None,
    collector_factory: Callable[[BugStore, float], BugCountsCollector] = BugCountsCollector,
    access: Access | None = None,
) -> MetricsServer:
    """`build_metrics_server`, started."""
    return build_metrics_server(store, port, host, refresh_seconds, bot, collector_factory, access).start()


def build_health_server(
    store: BugStore,
    port: int,
    host: str = "127.0.0.1",
    bot: BotStatusLike | None = None,
    access: Access | None = None,
) -> MetricsServer:
    """Only /healthz and /readyz bound to host:port (HEALTH_PORT): a probe from outside reaches them without
    reaching /metrics or /api. `start()` serves until `stop()`."""
    try:
        return MetricsServer((host, port), store, None, Health(store, bot), access)
    except OSError as exc:
        raise MetricsServerError(
            f"cannot serve health checks on {host}:{port}: {exc.strerror or exc}"
        ) from exc


def start_health_server(
    store: BugStore,
    port: int,
    host: str = "127.0.0.1",
    bot: BotStatusLike | None = None,
    access: Access | None = None,
) -> MetricsServer:
    """`build_health_server`, started."""
    return build_health_server(store, port, host, bot, access).start()
