"""A tiny JSON-over-HTTP server base for the local fakes: binds 127.0.0.1 on a free port, logs requests,
serves injected faults (429 / 5xx) before normal answers, and always shuts down (context manager)."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

POLL_INTERVAL = 0.02  # seconds between serve_forever's shutdown checks


class Fault:
    def __init__(
        self, status: int, headers: dict[str, str] | None = None, body: Any = None, after: bool = False
    ) -> None:
        self.status, self.headers, self.body = status, headers or {}, body
        self.after = after  # the request is carried out, then its answer is lost (a gateway's 5xx)


class JsonServer:
    """Subclasses implement route(method, path, query, headers) -> (status, body, extra headers), and
    route_body (the same with the raw body) where a POST's body matters. Every POST's JSON body is kept in
    `posted` as (path, body)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults: deque[Fault] = deque()
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []  # (method, path, query)
        self.posted: list[tuple[str, Any]] = []  # (path, parsed JSON body) of every POST
        self.delay = 0.0  # seconds before each answer (lets a test kill a client mid-run)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> JsonServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY, as real web servers set: the headers and the body go out in two writes, and on a
            # kept-alive connection Nagle held the body until the client's delayed ACK, 40 ms a request.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_PUT(self) -> None:
                fake._handle(self, "PUT")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval makes stop() quick (the default 0.5 s is paid by every test that stops one).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> JsonServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def netloc(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"http://{self.netloc}"

    # -- behaviour ---------------------------------------------------------------------------------
    def inject(
        self,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        *,
        after: bool = False,
    ) -> None:
        """The next `times` requests answer `status`; `after`: they are carried out first (the answer is
        lost on its way back, as when a gateway times out on a POST that went through)."""
        with self.lock:
            for _ in range(times):
                self.faults.append(
                    Fault(status, headers, body if body is not None else {"error": "injected"}, after)
                )

    def clear_faults(self) -> None:
        """Forget the injected faults not served yet."""
        with self.lock:
            self.faults.clear()

    def count(self, path_part: str) -> int:
        with self.lock:
            return sum(1 for _, path, _ in self.requests if path_part in path)

    def route(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any
    ) -> tuple[int, Any, dict]:
        raise NotImplementedError

    def route_body(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes
    ) -> tuple[int, Any, dict]:
        """Like route, with the request's body (POST): override where the body matters."""
        return self.route(method, path, query, headers)

    def posts(self, path_part: str) -> list[Any]:
        """The JSON bodies POSTed to paths containing path_part, oldest first (None: not JSON)."""
        with self.lock:
            return [body for path, body in self.posted if path_part in path]

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body: Any = None
        if method == "POST":
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                body = None
        with self.lock:
            self.requests.append((method, parts.path, query))
            if method == "POST":
                self.posted.append((parts.path, body))
            fault = self.faults.popleft() if self.faults else None
        if self.delay:
            time.sleep(self.delay)
        if fault is None or fault.after:
            status, body, headers = self.route_body(method, parts.path, query, handler.headers, raw)
        if fault is not None:
            status, body, headers = fault.status, fault.body, fault.headers
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)
