"""One small HTTP server beside the bot: `/metrics`, `/healthz` and the drill-down JSON under `/api/`.

Standard library only: four read-only routes do not earn a web framework. Threads, so that a slow store
read behind `/api/bugs` never holds up a Prometheus scrape (which only reads the counts snapshot).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from prometheus_client.exposition import choose_encoder

from bot.metrics import drilldown, registry
from bot.metrics.bug_counts import BugCountsCollector
from storage.errors import BugTrackerError, StoreUnavailable, TicketNotFound
from storage.store import BugStore

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 32  # Prometheus and Grafana need a handful; the rest wait for the next try
MAX_QUERY_FIELDS = 20
_BUSY_BODY = b'{"error": "too many connections; try again shortly"}'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b"Connection: close\r\nContent-Length: " + str(len(_BUSY_BODY)).encode() + b"\r\n\r\n" + _BUSY_BODY
)


class MetricsServerError(BugTrackerError):
    pass


class BotStatusLike(Protocol):
    """What run.py's BotStatus offers: mode "starting" / "slack" / "console", and the socket state."""

    mode: str

    def is_connected(self) -> bool: ...


@dataclass
class Health:
    store: BugStore
    bot: BotStatusLike | None  # None: `bugtracker metrics`, no bot in this process

    def report(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, body): healthy only when the store answers and Slack is connected (if it is used)."""
        body: dict[str, Any] = {}
        try:
            self.store.check()
            body["store"] = "ok"
        except BugTrackerError as exc:
            body["store"] = f"unavailable: {exc}"
        store_problem = getattr(self.bot, "store_problem", None)
        problem = store_problem() if callable(store_problem) else None
        if problem and body["store"] == "ok":  # it answers a read, but the intake's writes fail (a lock)
            body["store"] = problem
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


class _Exposition:
    """The process's metric objects (bot/metrics/registry.py) plus the bug counts, as one scrape."""

    def __init__(self, collector: BugCountsCollector) -> None:
        self.collector = collector

    def collect(self):
        yield from registry.REGISTRY.collect()
        yield from self.collector.collect()


class _Handler(BaseHTTPRequestHandler):
    server: MetricsServer

    def setup(self) -> None:
        self.timeout = self.server.request_timeout  # every read and write on the socket, not just the first
        super().setup()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        try:
            query = dict(parse_qsl(parts.query, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS))
        except ValueError:
            self._json(400, {"error": f"at most {MAX_QUERY_FIELDS} query parameters"})
            return
        try:
            if parts.path == "/metrics":
                encoder, content_type = choose_encoder(self.headers.get("Accept"))
                self._send(200, encoder(self.server.exposition), content_type)
            elif parts.path == "/healthz":
                healthy, body = self.server.health.report()
                self._json(200 if healthy else 503, body)
            elif parts.path == "/api/bugs":
                self._json(200, drilldown.list_bugs(self.server.store, query))
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


class MetricsServer(ThreadingHTTPServer):
    """A thread per connection, at most `max_connections` at once (past that: an immediate 503 and close),
    each socket read or write giving up after `request_timeout` seconds (a slow or idle client is dropped)."""

    daemon_threads = True
    request_timeout: float = REQUEST_TIMEOUT_SECONDS
    max_connections: int = MAX_CONNECTIONS

    def __init__(
        self, address: tuple[str, int], store: BugStore, collector: BugCountsCollector, health: Health
    ) -> None:
        super().__init__(address, _Handler)
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self.store = store
        self.collector = collector
        self.health = health
        self.exposition = _Exposition(collector)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            try:
                request.settimeout(1.0)
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)  # starts the connection's thread
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer is its own business: one debug line, never a traceback."""
        log.debug("metrics server: connection from %s ended early", client_address, exc_info=True)

    def start(self) -> MetricsServer:
        self.collector.start()
        # A short poll interval only makes shutdown() quick; requests are answered as they come.
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="metrics-http", daemon=True
        )
        self._thread.start()
        return self

    def shutdown(self) -> None:
        super().shutdown()
        self.server_close()
        self.collector.stop()


def start_metrics_server(
    store: BugStore,
    port: int,
    host: str = "127.0.0.1",
    refresh_seconds: float = 60,
    bot: BotStatusLike | None = None,
    collector_factory: Callable[[BugStore, float], BugCountsCollector] = BugCountsCollector,
) -> MetricsServer:
    """Serve on host:port (port 0: any free port, see `.port`) until `shutdown()`."""
    collector = collector_factory(store, refresh_seconds)
    try:
        server = MetricsServer((host, port), store, collector, Health(store, bot))
    except OSError as exc:  # port taken, address not ours: the person who set METRICS_PORT can fix it
        raise MetricsServerError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}") from exc
    server.start()
    log.info("metrics: http://%s:%d/metrics (counts refreshed every %ss)", host, server.port, refresh_seconds)
    return server
