"""compose.yaml (not run here: no container registry) against the files and ports it wires together."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import yaml

from tests.support.deploy_files import ROOT, dockerfile_instructions, final_stage, image_env, load_compose

PROMETHEUS_CONFIG = ROOT / "grafana" / "prometheus" / "prometheus.yml"
DATASOURCES = ROOT / "grafana" / "provisioning" / "datasources" / "bugtracker.yaml"
DASHBOARD_PROVIDER = ROOT / "grafana" / "provisioning" / "dashboards" / "bugtracker.yaml"


def mounts(service: dict) -> dict[str, str]:
    """Container path -> host path (relative to the repository) of the service's bind mounts."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            found[target] = source
    return found


def published(compose: dict) -> set[int]:
    ports = set()
    for service in compose["services"].values():
        for mapping in service.get("ports", []):
            ports.add(int(str(mapping).split(":")[-1]))
    return ports


def test_every_bind_mount_is_a_file_or_folder_of_the_repository():
    compose = load_compose()
    for name, service in compose["services"].items():
        for source in mounts(service).values():
            assert (ROOT / source).exists(), f"{name}: {source}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("./") or source in compose["volumes"], f"{name}: {source}"


def test_prometheus_runs_the_projects_scrape_config_and_reaches_the_bot():
    compose = load_compose()
    prometheus = compose["services"]["prometheus"]
    config_flag = next(arg for arg in prometheus["command"] if arg.startswith("--config.file="))
    config_path = config_flag.split("=", 1)[1]
    assert mounts(prometheus)[config_path] == "./grafana/prometheus/prometheus.yml"

    # One network namespace (Prometheus's): "localhost" in the project's files is any of the three.
    for name in ("bot", "grafana"):
        assert compose["services"][name]["network_mode"] == "service:prometheus"
    scrape = yaml.safe_load(PROMETHEUS_CONFIG.read_text())["scrape_configs"]
    targets = [target for job in scrape for group in job["static_configs"] for target in group["targets"]]
    bot_env = compose["services"]["bot"]["environment"]
    metrics_port = int(bot_env.get("METRICS_PORT") or image_env(dockerfile_instructions())["METRICS_PORT"])
    assert targets == [f"localhost:{metrics_port}"]
    assert bot_env["METRICS_HOST"] == "0.0.0.0"
    assert metrics_port in published(compose)


def test_grafana_gets_the_provisioning_files_the_dashboard_and_its_plugin():
    compose = load_compose()
    grafana = compose["services"]["grafana"]
    mounted = mounts(grafana)
    assert mounted["/etc/grafana/provisioning/datasources"] == "./grafana/provisioning/datasources"
    assert mounted["/etc/grafana/provisioning/dashboards"] == "./grafana/provisioning/dashboards"
    provider_path = yaml.safe_load(DASHBOARD_PROVIDER.read_text())["providers"][0]["options"]["path"]
    assert mounted[provider_path] == "./grafana/dashboards"
    assert list((ROOT / "grafana" / "dashboards").glob("*.json"))

    sources = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    # the plugins are in the image compose builds (grafana/Dockerfile), never fetched when Grafana starts
    assert "GF_INSTALL_PLUGINS" not in grafana.get("environment", {})
    assert grafana["build"] == "./grafana"
    dockerfile = (ROOT / "grafana" / "Dockerfile").read_text()
    plugins = [
        line.split("plugins install", 1)[1].split()
        for line in dockerfile.splitlines()
        if "plugins install" in line
    ]
    plugins = [name for names in plugins for name in names]
    assert "GF_PATHS_PLUGINS=/var/lib/grafana-plugins" in dockerfile  # not under the grafana-data volume
    for source in sources:
        url = urlsplit(source["url"])
        assert url.hostname == "localhost" and url.port in published(compose), source["name"]
        if source["type"] != "prometheus":  # built in; any other type is a plugin to install
            assert source["type"] in plugins
    assert 3000 in published(compose)  # Grafana's own port
    # the API data source sends the bot's token, read from Grafana's environment
    assert "${METRICS_API_TOKEN}" in DATASOURCES.read_text()
    assert grafana["environment"]["METRICS_API_TOKEN"] == "${METRICS_API_TOKEN:-}"


def test_the_bot_runs_the_image_make_image_builds_with_its_data_volume():
    compose = load_compose()
    bot = compose["services"]["bot"]
    makefile = (ROOT / "Makefile").read_text()
    assert bot["image"] == re.search(r"^IMAGE \?= (\S+)$", makefile, re.MULTILINE).group(1)
    assert bot["pull_policy"] == "never"
    instructions = dockerfile_instructions()
    (volume,) = yaml.safe_load(dict(final_stage(instructions))["VOLUME"])
    named = [entry for entry in bot["volumes"] if not entry.startswith("./")]
    assert [entry.split(":")[1] for entry in named] == [volume]
    assert image_env(instructions)["BUGTRACKER_DB"].startswith(volume + "/")
    assert bot["env_file"] == [{"path": ".env", "required": False}]
