"""`bugtracker metrics` as a real process: serves /metrics and /healthz, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import re
import signal
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from storage.sqlite import SqliteStore
from tests.support.metrics_known_store import fill
from tests.support.metrics_scrape import scrape
from tests.support.processes import child_env, run_entry_point, start_entry_point
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(db_path: Path) -> dict[str, str]:
    return child_env(BUGTRACKER_DB=str(db_path))


def test_metrics_command_serves_the_store_counts(tmp_path) -> None:
    store = fill(SqliteStore(tmp_path / "bugs.db"))
    expected_total = store.counts().total
    store.close()
    health_port = _free_port()
    process = start_entry_point(
        "bot.cli",
        "metrics",
        "--port",
        "0",
        "--refresh",
        "1",
        cwd=tmp_path,
        env={**_environment(tmp_path / "bugs.db"), "HEALTH_PORT": str(health_port)},
    )
    try:
        line = process.stdout.readline()
        port = int(re.search(r"127\.0\.0\.1:(\d+)/metrics", line).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert json.loads(response.read())["status"] == "ok"
        samples = wait_until(
            lambda: (
                (found := scrape(f"http://127.0.0.1:{port}/metrics")) and "bugtracker_bugs" in found and found
            )
        )
        assert samples["bugtracker_bugs"] == {(): expected_total}
        # HEALTH_PORT: /readyz there, and nothing but health
        with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/readyz", timeout=10) as response:
            assert json.loads(response.read())["status"] == "ok"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{health_port}/metrics", timeout=10)
        assert refused.value.code == 404
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_metrics_command_with_an_unusable_store_is_one_line_and_exit_3(tmp_path) -> None:
    (tmp_path / "a-directory").mkdir()
    result = run_entry_point(
        "bot.cli",
        "metrics",
        "--port",
        "0",
        cwd=tmp_path,
        env=_environment(tmp_path / "a-directory"),
        timeout=30,
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "a-directory" in errors[0], result.stderr


def test_ctrl_c_on_metrics_exits_130(tmp_path) -> None:
    process = start_entry_point(
        "bot.cli", "metrics", "--port", "0", cwd=tmp_path, env=_environment(tmp_path / "bugs.db")
    )
    try:
        assert "/metrics" in process.stdout.readline()  # serving: its signal handlers are in place
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
