"""Every PromQL expression of the dashboard, run by a real Prometheus scraping the real metrics endpoint.

The store has known content; each answer must agree with `store.counts()` / `store.new_per_day()` (bug
counts) or with the telemetry objects the test drove (sync and bot health). A dashboard query that
returns nothing fails, and so does a query this file has no expectation for: add one when adding a panel.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from bot.metrics import registry
from bot.metrics.bug_counts import BugCountsCollector
from bot.metrics.server import start_metrics_server
from storage.model import PRIORITIES, SOURCES, STATE_TYPES
from tests.support.grafana_dashboard import data_panels, load_dashboard
from tests.support.metrics_known_store import TODAY, fill
from tests.support.prometheus_process import Prometheus, prometheus_binary

# one worker runs the whole module (make test's --dist loadgroup): one Prometheus and one world, not one each
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prometheus")]

Result = dict[tuple[str, ...], float]


def dashboard_exprs() -> list[str]:
    return sorted(
        {
            target["expr"]
            for panel in data_panels(load_dashboard())
            for target in panel["targets"]
            if target["datasource"]["type"] == "prometheus"
        }
    )


def telemetry_values(name: str) -> Result:
    """A metric's current values in this process, keyed like Prometheus answers (label values by name)."""
    values = {}
    for family in registry.REGISTRY.collect():
        for sample in family.samples:
            if sample.name == name:
                values[tuple(value for _key, value in sorted(sample.labels.items()))] = sample.value
    return values


class Driver(threading.Thread):
    """Does what the bot and the sync would do while Prometheus watches: events, commands, pulls."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.ticks = 0

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.ticks += 1
            registry.EVENTS_HANDLED.labels("message").inc()
            registry.COMMAND_LATENCY.labels("stats").observe(0.3)  # bucket (0.25, 0.5]
            registry.SYNC_RECORDS.labels("zendesk", "fetched").inc(5)
            registry.SYNC_RATE_LIMIT_WAIT.labels("zendesk").inc(2)
            registry.FLOW_TO_LINK.labels("High", "slack").observe(7200)  # bucket (3600, 14400]
            registry.FLOW_TO_DONE.labels("High", "zendesk").observe(2 * 86400)  # bucket (86400, 259200]
            if self.ticks % 5 == 1:
                registry.SYNC_FAILURES.labels("shortcut").inc()
                registry.ERRORS.inc()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[dict]:
    binary = prometheus_binary()
    from storage.sqlite import SqliteStore

    workdir = tmp_path_factory.mktemp("prometheus")
    store = fill(SqliteStore(workdir / "bugs.db"))
    store.adjust_counters({"total": 2, "state:open": -1})  # drift, so the recount has something to find
    store.recount()
    now = time.time()
    was_connected = registry.REGISTRY.get_sample_value("bugtracker_socket_mode_connected")
    registry.SOCKET_CONNECTED.set(1)
    registry.SYNC_LAST_SUCCESS.labels("zendesk").set(now - 120)
    registry.SYNC_LAST_SUCCESS.labels("shortcut").set(now - 30)
    registry.SYNC_DURATION.labels("zendesk").set(4.5)
    registry.SYNC_DURATION.labels("shortcut").set(1.25)
    # Series must exist before the first scrape: rate() does not count a series' first value as growth.
    registry.SYNC_RECORDS.labels("zendesk", "fetched")
    registry.SYNC_FAILURES.labels("shortcut")
    registry.SYNC_RATE_LIMIT_WAIT.labels("zendesk")
    registry.EVENTS_HANDLED.labels("message")
    registry.COMMAND_LATENCY.labels("stats")
    registry.initialise_flow()

    server = start_metrics_server(
        store,
        port=0,
        refresh_seconds=60,
        collector_factory=lambda s, r: BugCountsCollector(s, r, today=lambda: TODAY),
    )
    prometheus = Prometheus(binary, workdir, f"127.0.0.1:{server.port}")
    driver = Driver()
    try:
        prometheus.wait_until(prometheus.target_is_up, "the metrics target to be up")
        prometheus.wait_until(lambda: prometheus.query("bugtracker_bugs"), "the bug counts to be scraped")
        driver.start()
        # Enough scrapes with the driver running for rate() and increase() to see growth.
        prometheus.wait_until(
            lambda: (
                prometheus.query("sum(count_over_time(bugtracker_errors_total[1m]))").get((), 0) >= 5
                and driver.ticks >= 15
            ),
            "five scrapes while the driver runs",
        )
        driver.stop.set()
        driver.join()
        yield {"store": store, "prometheus": prometheus, "collector": server.collector}
    finally:
        driver.stop.set()
        prometheus.stop()
        server.shutdown()
        registry.SOCKET_CONNECTED.set(was_connected or 0)  # the gauge is process-wide


def _by(label_values: dict[str, int], known: tuple[str, ...] = ()) -> Result:
    return {(key,): float(value) for key, value in {**dict.fromkeys(known, 0), **label_values}.items()}


def _exactly(expected: Result) -> Callable[[Result, dict], None]:
    def check(result: Result, _world: dict) -> None:
        assert result == expected

    return check


def grows_where_driven(metric: str, driven: set[tuple[str, ...]]) -> Callable[[Result, dict], None]:
    def check(result: Result, _world: dict) -> None:
        assert driven <= result.keys()
        for key, value in result.items():
            assert value > 0 if key in driven else value == 0, (metric, key, value)

    return check


def p95_in_the_driven_bucket(result: Result, _world: dict) -> None:
    assert 0.25 < result[("stats",)] <= 0.5
    assert all(math.isnan(value) for key, value in result.items() if key != ("stats",))  # never observed


def in_the_driven_bucket(low: float, high: float) -> Callable[[Result, dict], None]:
    def check(result: Result, _world: dict) -> None:  # only High was driven; the rest never observed
        assert low < result[("High",)] <= high
        assert all(math.isnan(value) for key, value in result.items() if key != ("High",))

    return check


def expectations(world: dict) -> dict[str, Callable[[Result, dict], None]]:
    counts = world["store"].counts()
    days = [(TODAY - timedelta(days=back)).isoformat() for back in range(29, -1, -1)]
    per_day = world["store"].new_per_day(days[0], days[-1])
    new_bugs = {
        (day, source): float(per_day.get(source, {}).get(day, 0)) for day in days for source in SOURCES
    }
    priorities = (*PRIORITIES, "none")
    linked, unlinked = counts.slack_linked, counts.slack_unlinked
    link_rate = _exactly({(): linked / (linked + unlinked)})
    open_by_priority = _exactly(_by(counts.open_by_priority, priorities))

    def seconds_since(metric: str, grouped: bool) -> Callable[[Result, dict], None]:
        def check(result: Result, world: dict) -> None:  # the query was evaluated at world["at"]
            stamps = telemetry_values(metric) if grouped else {(): world["collector"].snapshot.taken_at}
            assert result.keys() == stamps.keys()
            for key, stamp in stamps.items():
                assert result[key] == pytest.approx(world["at"] - stamp, abs=0.001)  # time(): milliseconds

        return check

    found: dict[str, Callable[[Result, dict], None]] = {
        "sum(bugtracker_bugs)": _exactly({(): counts.total}),
        "sum(bugtracker_open_bugs_by_source)": _exactly({(): sum(counts.open_by_source.values())}),
        'sum(bugtracker_slack_reports{link="linked"}) / sum(bugtracker_slack_reports)': link_rate,
        'sum(bugtracker_slack_reports{link="unlinked"})': _exactly({(): unlinked}),
        "sum(bugtracker_bugs_deleted)": _exactly({(): counts.deleted}),
        "time() - max(bugtracker_counts_refresh_timestamp_seconds)": seconds_since("", grouped=False),
        "sum by (priority) (bugtracker_open_bugs_by_priority)": open_by_priority,
        "sum by (priority) (bugtracker_bugs_by_priority)": _exactly(_by(counts.by_priority, priorities)),
        "sum by (state_type) (bugtracker_bugs_by_state_type)": _exactly(
            _by(counts.by_state_type, (*STATE_TYPES, "none"))
        ),
        "sum by (state) (bugtracker_bugs_by_state)": _exactly(_by(counts.by_state)),
        "sum by (source) (bugtracker_bugs_by_source)": _exactly(_by(counts.by_source, SOURCES)),
        "sum by (source) (bugtracker_open_bugs_by_source)": _exactly(_by(counts.open_by_source, SOURCES)),
        "sum by (day, source) (bugtracker_new_bugs)": _exactly(new_bugs),
        "time() - max by (source) (bugtracker_sync_last_success_timestamp_seconds)": seconds_since(
            "bugtracker_sync_last_success_timestamp_seconds", grouped=True
        ),
        "max by (source) (bugtracker_sync_duration_seconds)": _exactly(
            telemetry_values("bugtracker_sync_duration_seconds")
        ),
        "sum by (source, outcome) (rate(bugtracker_sync_records_total[5m]))": grows_where_driven(
            "records", {("fetched", "zendesk")}
        ),
        "sum by (source) (increase(bugtracker_sync_failures_total[1h]))": grows_where_driven(
            "failures", {("shortcut",)}
        ),
        "sum by (source) (increase(bugtracker_sync_rate_limit_wait_seconds_total[1h]))": grows_where_driven(
            "rate-limit waits", {("zendesk",)}
        ),
        "sum(increase(bugtracker_counts_refresh_failures_total[1h]))": _exactly({(): 0.0}),
        "max(bugtracker_counts_drift)": _exactly({(): 3.0}),  # |-2| + |+1|, as the world's recount found
        "max(bugtracker_socket_mode_connected)": _exactly({(): 1.0}),
        "sum by (kind) (rate(bugtracker_events_handled_total[5m]))": grows_where_driven(
            "events", {("message",)}
        ),
        "histogram_quantile(0.95, sum by (le, command) (rate(bugtracker_command_seconds_bucket[5m])))": (
            p95_in_the_driven_bucket
        ),
        "sum(increase(bugtracker_errors_total[1h]))": grows_where_driven("errors", {()}),
    }
    for metric, low, high in (
        ("bugtracker_flow_report_to_link_seconds", 3600, 14400),
        ("bugtracker_flow_link_to_done_seconds", 86400, 259200),
    ):
        for quantile in ("0.5", "0.9"):
            expr = f"histogram_quantile({quantile}, sum by (le, priority) (increase({metric}_bucket[30d])))"
            found[expr] = in_the_driven_bucket(low, high)
    return found


def test_every_dashboard_query_has_an_expectation(world) -> None:
    missing = set(dashboard_exprs()) - set(expectations(world))
    assert not missing, f"dashboard queries without an expectation in this test: {sorted(missing)}"


@pytest.mark.parametrize("expr", dashboard_exprs())
def test_dashboard_query_agrees_with_the_store(world, expr: str) -> None:
    at = time.time()  # the evaluation time, given to Prometheus: `time()` in a query is this, not a window
    result = world["prometheus"].query(expr, at=at)
    assert result, f"the dashboard query returned no data: {expr}"
    expectations(world)[expr](result, {**world, "at": at})
