"""The Grafana dashboard JSON, read as the tests need it."""

from __future__ import annotations

import json
from pathlib import Path

GRAFANA = Path(__file__).resolve().parents[2] / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "bugtracker.json"
PROMETHEUS_TYPE = "prometheus"
INFINITY_TYPE = "yesoreyeram-infinity-datasource"


def load_dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def all_panels(dashboard: dict) -> list[dict]:
    panels = []
    for panel in dashboard["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # panels inside collapsed rows
    return panels


def data_panels(dashboard: dict) -> list[dict]:
    return [panel for panel in all_panels(dashboard) if panel["type"] != "row"]
