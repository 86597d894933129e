"""The dashboard JSON and the provisioning files: what Grafana needs to load them, checked without Grafana."""

from __future__ import annotations

import re

import pytest
import yaml
from prometheus_client.exposition import generate_latest

from bot.metrics import registry
from bot.metrics.bug_counts import BugCountsCollector
from storage.sqlite import SqliteStore
from tests.support.grafana_dashboard import (
    GRAFANA,
    INFINITY_TYPE,
    PROMETHEUS_TYPE,
    all_panels,
    data_panels,
    load_dashboard,
)


def provisioned_datasources() -> dict[str, str]:
    config = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "bugtracker.yaml").read_text())
    return {source["uid"]: source["type"] for source in config["datasources"]}


def test_panel_ids_are_unique_integers() -> None:
    ids = [panel["id"] for panel in all_panels(load_dashboard())]
    assert all(isinstance(panel_id, int) for panel_id in ids)
    assert len(ids) == len(set(ids))


def test_every_data_panel_has_a_provisioned_datasource_and_targets() -> None:
    provisioned = provisioned_datasources()
    for panel in data_panels(load_dashboard()):
        title = panel["title"]
        assert panel["datasource"]["uid"] in provisioned, title
        assert panel["datasource"]["type"] == provisioned[panel["datasource"]["uid"]], title
        assert panel["targets"], title
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), title
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"], title
            if target["datasource"]["type"] == PROMETHEUS_TYPE:
                assert target["expr"].strip(), title
            else:
                assert target["datasource"]["type"] == INFINITY_TYPE, title
                assert target["url"].startswith("/api/") and target["root_selector"], title


def test_the_key_views_are_all_there() -> None:
    exprs = " ".join(
        target.get("expr", "") for panel in data_panels(load_dashboard()) for target in panel["targets"]
    )
    for metric in (
        "bugtracker_open_bugs_by_priority",
        "bugtracker_bugs_by_state",
        "bugtracker_bugs_by_source",
        "bugtracker_new_bugs",
        "bugtracker_slack_reports",
        "bugtracker_sync_last_success_timestamp_seconds",
        "bugtracker_socket_mode_connected",
    ):
        assert metric in exprs
    assert any(panel["datasource"]["type"] == INFINITY_TYPE for panel in data_panels(load_dashboard()))


def test_panels_fit_the_grid_without_overlapping() -> None:
    boxes = []
    for panel in all_panels(load_dashboard()):
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        boxes.append((grid["x"], grid["y"], grid["x"] + grid["w"], grid["y"] + grid["h"], panel["title"]))
    for index, (x1, y1, x2, y2, title) in enumerate(boxes):
        for ox1, oy1, ox2, oy2, other in boxes[index + 1 :]:
            assert x2 <= ox1 or ox2 <= x1 or y2 <= oy1 or oy2 <= y1, f"{title} overlaps {other}"


def test_template_variables_used_by_the_drill_down_exist() -> None:
    dashboard = load_dashboard()
    defined = {variable["name"] for variable in dashboard["templating"]["list"]}
    for panel in data_panels(dashboard):
        for target in panel["targets"]:
            used = set(re.findall(r"\$\{(\w+)", target.get("url", "")))
            assert used <= defined, panel["title"]


def test_every_metric_the_dashboard_names_is_exposed(tmp_path) -> None:
    """A typo in a metric name would only show as 'No data' in Grafana; catch it here."""
    store = SqliteStore(tmp_path / "bugs.db")
    collector = BugCountsCollector(store)
    collector.refresh()

    class Both:
        def collect(self):
            yield from registry.REGISTRY.collect()
            yield from collector.collect()

    text = generate_latest(Both()).decode()
    declared = set(re.findall(r"^# TYPE (\w+) (\w+)", text, flags=re.MULTILINE))
    names = set()
    for name, kind in declared:
        if kind == "counter":
            names.add(name if name.endswith("_total") else name + "_total")
        elif kind == "histogram":
            names |= {name + "_bucket", name + "_sum", name + "_count"}
        else:
            names.add(name)
    for panel in data_panels(load_dashboard()):
        for target in panel["targets"]:
            for metric in re.findall(r"\bbugtracker_\w+", target.get("expr", "")):
                assert metric in names, f"{panel['title']}: {metric} is not exposed"


@pytest.mark.parametrize("name", ["datasources", "dashboards"])
def test_provisioning_files_are_grafana_provisioning_yaml(name: str) -> None:
    config = yaml.safe_load((GRAFANA / "provisioning" / name / "bugtracker.yaml").read_text())
    assert config["apiVersion"] == 1
    entries = config["datasources" if name == "datasources" else "providers"]
    assert entries and all(entry["name"] for entry in entries)
    if name == "dashboards":
        assert entries[0]["type"] == "file" and entries[0]["options"]["path"]


def test_the_drill_down_starts_on_every_source():
    """The source variable's default is All: a newcomer's first drill-down shows every bug, not Zendesk's."""
    import json
    from pathlib import Path

    dashboard = json.loads(
        (Path(__file__).resolve().parents[3] / "grafana/dashboards/bugtracker.json").read_text()
    )
    source = next(v for v in dashboard["templating"]["list"] if v["name"] == "source")
    assert source["current"]["value"] == "$__all"
    assert [o["value"] for o in source["options"] if o["selected"]] == ["$__all"]
