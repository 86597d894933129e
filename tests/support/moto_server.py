"""moto's DynamoDB over real HTTP, answering one request at a time.

DynamoDB applies each request atomically: of two conditional writes racing from two processes, one fails.
moto's threaded server runs requests side by side over shared dicts without a lock, so both can pass (and it
can raise "dictionary changed size during iteration"). Tests whose processes race on the store (two bot
instances claiming the same answer) would then see a race that real DynamoDB never allows. Here requests
still arrive on their own threads (keep-alive connections do not block each other), but the application
handles them one by one, as in-process tests do with tests/conftest.py's AtomicCalls.

`before(operation)`, when given, is called with each request's operation (`BatchWriteItem`, ...) before moto
handles it, outside the lock: a test can count requests or hold one (a process then killed mid-write).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from tests.support import moto_transactions


class AtomicMotoServer:
    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, before: Callable[[str], None] | None = None
    ) -> None:
        moto_transactions.install()
        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def one_at_a_time(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            if before is not None:  # X-Amz-Target: DynamoDB_20120810.<Operation>
                before(environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2])
            with lock:
                return list(app(environ, start_response))

        self._server = make_server(
            host, port, one_at_a_time, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> AtomicMotoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
