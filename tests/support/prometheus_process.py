"""A real Prometheus (Debian's `prometheus` package) scraping one target every second, for the tests."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

CONFIG = """\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: bugtracker
    static_configs:
      - targets: ["{target}"]
"""


def prometheus_binary() -> str:
    """The binary, or skip (outside CI) / fail (in CI, where .ci/run installs it)."""
    binary = shutil.which("prometheus")
    if binary:
        return binary
    message = "prometheus is not installed (apt-get install -y prometheus; .ci/run does it)"
    if os.environ.get("CI"):
        pytest.fail(message + ": CI must have it")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Prometheus:
    def __init__(self, binary: str, workdir: Path, target: str) -> None:
        self.port = _free_port()
        config = workdir / "prometheus.yml"
        config.write_text(CONFIG.format(target=target))
        self.log = (workdir / "prometheus.log").open("w")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.log_path = workdir / "prometheus.log"

    def api(self, path: str, **params: str) -> dict:
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> dict[tuple[str, ...], float]:
        """Instant query -> {label values sorted by label name: value}, `__name__` left out; evaluated at
        `at` (Unix seconds) when given, else at Prometheus's now."""
        data = self.api("query", query=expr, **({} if at is None else {"time": f"{at:.3f}"}))
        assert data["resultType"] in ("vector", "scalar"), (expr, data["resultType"])
        if data["resultType"] == "scalar":
            return {(): float(data["result"][1])}
        return {
            tuple(value for name, value in sorted(item["metric"].items()) if name != "__name__"): float(
                item["value"][1]
            )
            for item in data["result"]
        }

    def wait_until(self, condition, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"prometheus exited with {self.process.returncode}: {self.log_path.read_text()}")
            try:
                if condition():
                    return
            except OSError:  # not listening yet
                pass
            time.sleep(0.2)
        pytest.fail(f"timed out waiting for {what}; prometheus log: {self.log_path.read_text()[-2000:]}")

    def target_is_up(self) -> bool:
        targets = self.api("targets")["activeTargets"]
        return bool(targets) and all(target["health"] == "up" for target in targets)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()
