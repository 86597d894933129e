"""Every metric the Grafana dashboard queries is exported from the start, before any event, command, pull
or failure: the label sets of the configured sources at 0 (a failures panel shows 0, not "No data")."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.grafana_dashboard import data_panels, load_dashboard
from tests.support.metrics_scrape import parse_exposition
from tests.support.processes import ROOT, child_env

# Prometheus objects live for the life of a process, and other tests in this worker move them: the export
# "before anything happens" is read from a fresh interpreter that does nothing but start the server.
_FRESH_SCRAPE = """
import sys, time, urllib.request
from bot.metrics.registry import initialise_sources
from bot.metrics.server import start_metrics_server
from storage.sqlite import SqliteStore
initialise_sources(["zendesk", "shortcut"])
server = start_metrics_server(SqliteStore(sys.argv[1]), port=0)
try:
    # the counts' first refresh runs at start, on the collector's own thread: wait for it (bounded)
    for _ in range(3000):
        if server.collector.snapshot is not None:
            break
        time.sleep(0.01)
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=30) as response:
        sys.stdout.write(response.read().decode())
finally:
    server.shutdown()
"""


def dashboard_metric_names() -> set[str]:
    names = set()
    for panel in data_panels(load_dashboard()):
        for target in panel.get("targets", []):
            names |= set(re.findall(r"bugtracker_[a-z_]+", target.get("expr") or ""))
    return names


def test_every_dashboard_series_is_exported_before_anything_happens(tmp_path):
    child = subprocess.run(
        [sys.executable, "-c", _FRESH_SCRAPE, str(tmp_path / "bugs.db")],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr
    samples = parse_exposition(child.stdout)
    # bugtracker_bugs_by_state is labelled by the sources' own state names: an empty store has none to show.
    # bugtracker_counts_drift is known once a recount ran (daily in the bot, `stats --recount`, `migrate`):
    # before that a 0 would claim exact counts nobody checked; its panel says "no recount yet" instead.
    expected = dashboard_metric_names() - {"bugtracker_bugs_by_state", "bugtracker_counts_drift"}
    missing = sorted(name for name in expected if name not in samples)
    assert not missing, f"queried by the dashboard but not exported: {missing}"
    assert samples["bugtracker_sync_failures_total"][("zendesk",)] == 0  # exported at 0, before any pull
    assert ("shortcut",) in samples["bugtracker_sync_failures_total"]
    assert ("failed", "shortcut") in samples["bugtracker_sync_records_total"]  # (outcome, source)
    assert "bugtracker_intake_pending" in samples
    drift_panel = next(
        p for p in data_panels(load_dashboard()) if "bugtracker_counts_drift" in str(p["targets"])
    )
    assert drift_panel["fieldConfig"]["defaults"]["noValue"] == "no recount yet"
