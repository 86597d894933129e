"""deploy/prometheus: the scrape config and the alert rules are valid for Prometheus (`promtool check`), the
alerts fire on what they are for (`promtool test rules`), and every series they name is one the bot exports.
promtool comes with Debian's prometheus package (.ci/run installs it): outside CI a missing one skips."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from bot.metrics.bug_counts import BugCountsCollector
from bot.metrics.registry import REGISTRY, initialise_sources
from tests.support.deploy_files import ROOT

PROMETHEUS = ROOT / "deploy" / "prometheus"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    message = "promtool is not installed (apt-get install -y prometheus; .ci/run does it)"
    if os.environ.get("CI"):
        pytest.fail(message + ": CI must have it")
    pytest.skip(message)


@pytest.mark.parametrize(
    "arguments",
    [
        ("check", "config", "prometheus.yml"),
        ("check", "rules", "alerts.yml"),
        ("test", "rules", "alerts.test.yml"),
        ("check", "config", str(ROOT / "grafana" / "prometheus" / "prometheus.yml")),
    ],
)
def test_promtool_accepts_them(promtool, arguments):
    done = subprocess.run(
        [promtool, *arguments], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_would_catch_a_broken_rule(promtool, tmp_path):
    broken = (PROMETHEUS / "alerts.yml").read_text().replace('up{job="bugtracker"} == 0', "up{job= == 0")
    (tmp_path / "alerts.yml").write_text(broken)
    done = subprocess.run(
        [promtool, "check", "rules", "alerts.yml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0


def test_the_alerts_cover_down_disconnected_store_stale_and_backlog(sqlite_store):
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    expressions = " ".join(rule["expr"] for rule in rules)
    for needed in (
        'up{job="bugtracker"} == 0',
        "absent(up",
        "bugtracker_socket_mode_connected",
        "bugtracker_counts_refresh_failures_total",
        "bugtracker_counts_refresh_timestamp_seconds",
        "bugtracker_intake_pending",
        "bugtracker_sync_last_success_timestamp_seconds",
    ):
        assert needed in expressions, needed
    initialise_sources(("zendesk", "shortcut"))
    exported = set()
    for family in (*REGISTRY.collect(), *BugCountsCollector(sqlite_store).describe()):
        exported |= {family.name, *(sample.name for sample in family.samples)}
    named = set(re.findall(r"bugtracker_\w+", expressions))
    assert named <= exported, named - exported
    scrape = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert scrape["rule_files"] == ["alerts.yml"]
    assert scrape["scrape_configs"][0]["dns_sd_configs"][0]["port"] == 9464
