"""`bugtracker metrics`: serve /metrics, /healthz and the drill-down API without Slack (and /healthz,
/readyz alone on HEALTH_PORT when it is set).

For a deployment where the bot runs elsewhere (or not at all): the bug counts come from the same store,
so Grafana shows the same numbers; the bot-health and sync-health series stay with the processes that
update them.
"""

from __future__ import annotations

import argparse
import signal
import threading

from bot.bootstrap import build_health_server, build_metrics_server, build_store
from bot.cli.exit_codes import EXIT_INTERRUPTED, EXIT_OK
from bot.cli.help import examples
from bot.config import Config
from bot.shutdown import wait_for

DEFAULT_PORT = 9464  # prometheus-client's conventional exporter port; METRICS_PORT or --port override it


def _serve(args: argparse.Namespace, config: Config, stop: threading.Event | None = None) -> int:
    # a long-running server (as the bot) may start on a fresh volume: it creates a missing SQLite file
    store = build_store(config, create=True)
    store.check()  # StoreUnavailable here is a one-line error and exit 3 (bot/cli/), not a dead server
    port = args.port if args.port is not None else (config.metrics_port or DEFAULT_PORT)
    host = args.host or config.metrics_host
    refresh = args.refresh if args.refresh is not None else config.metrics_refresh_seconds
    stop = stop or threading.Event()
    interrupted = threading.Event()  # Ctrl-C (SIGINT) ends with 130, as the other commands; SIGTERM with 0

    def on_signal(signum: int, _frame: object) -> None:
        if signum == signal.SIGINT:
            interrupted.set()
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, on_signal)
    server = build_metrics_server(config, store, None, port=port, host=host, refresh_seconds=refresh)
    assert server is not None  # a port is always given here
    try:
        health = build_health_server(config, store, None)
    except BaseException:
        server.stop()
        raise
    server.start()
    if health is not None:
        health.start()
    print(f"serving http://{host}:{server.port}/metrics (Ctrl-C to stop)", flush=True)
    try:
        wait_for(stop)  # wakes to run a signal handler whichever thread the signal reached
    finally:
        if health is not None:
            health.stop()
        server.stop()
    return EXIT_INTERRUPTED if interrupted.is_set() else EXIT_OK


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port (0-65535; 0 picks a free one)")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of seconds")
    return int(text)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "metrics",
        help="serve Prometheus metrics, /healthz and the drill-down API (no Slack)",
        epilog=examples(
            "bugtracker metrics                # http://127.0.0.1:9464/metrics",
            "bugtracker metrics --host 0.0.0.0 --port 9464 --refresh 30",
            'curl -s -H "Authorization: Bearer $METRICS_API_TOKEN" 127.0.0.1:9464/api/bugs?source=slack',
        ),
    )
    parser.add_argument(
        "--port", type=_port, help=f"port (default METRICS_PORT, else {DEFAULT_PORT}; 0: any)"
    )
    parser.add_argument("--host", help="address to bind (default METRICS_HOST, else 127.0.0.1)")
    parser.add_argument("--refresh", type=_positive, help="seconds between bug count refreshes (default 60)")
    parser.set_defaults(handler=_serve, long_running=True)
