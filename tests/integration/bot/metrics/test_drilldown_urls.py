"""The dashboard's Infinity drill-down queries, sent as Grafana would send them, to the real server."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from bot.metrics.server import start_metrics_server
from tests.support.grafana_dashboard import INFINITY_TYPE, data_panels, load_dashboard
from tests.support.metrics_api import API_ACCESS, AUTHORIZATION
from tests.support.metrics_known_store import fill

INFINITY_TARGETS = [
    target
    for panel in data_panels(load_dashboard())
    for target in panel["targets"]
    if target["datasource"]["type"] == INFINITY_TYPE
]
# Variable values a person might pick; "" is what Grafana sends for "All".
CHOICES = [
    {"priority": "", "source": "zendesk", "state": "", "ticket": "ZD-1"},
    {"priority": "High", "source": "", "state": "", "ticket": "SC-1"},
    {"priority": "", "source": "slack", "state": "", "ticket": "ZD-2"},
]


@pytest.fixture
def base_url(sqlite_store):
    server = start_metrics_server(fill(sqlite_store), port=0, access=API_ACCESS)
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()


@pytest.mark.parametrize("choice", CHOICES)
@pytest.mark.parametrize("target", INFINITY_TARGETS, ids=lambda target: target["url"])
def test_drill_down_queries_return_rows_with_every_column(base_url, target, choice) -> None:
    url = re.sub(r"\$\{(\w+)\}", lambda match: choice[match.group(1)], target["url"])
    with urllib.request.urlopen(
        urllib.request.Request(base_url + url, headers=AUTHORIZATION), timeout=10
    ) as response:
        body = json.loads(response.read())
    rows = body[target["root_selector"]]
    assert rows, url
    for row in rows:
        for column in target["columns"]:
            assert column["selector"] in row, (url, column["selector"])
        assert row["url"].startswith("https://"), row  # every row links to its source page
