"""docs/operate.md: its links lead somewhere, the commands it gives the image are real, its secrets are the
task definition's."""

from __future__ import annotations

import json
import re

from bot.cli import build_parser
from bot.metrics.bug_counts import BugCountsCollector
from bot.metrics.registry import REGISTRY, initialise_sources
from tests.support.deploy_files import ROOT, load_task_definition

DOCS = ROOT / "docs"
OPERATE = DOCS / "operate.md"


def anchors(path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
    return found


def test_every_relative_link_resolves():
    links = re.findall(r"\]\(([^)#\s]+)?(?:#([^)\s]+))?\)", OPERATE.read_text())
    assert links
    for target, anchor in links:
        if target.startswith("http"):
            continue
        path = (DOCS / target).resolve() if target else OPERATE
        assert path.exists(), target
        if anchor:
            assert anchor in anchors(path), f"{target}#{anchor}"


def test_the_one_off_commands_are_commands_of_the_image():
    """The doc's `command` overrides (run-task) are arguments the image's entry point (bugtracker) takes."""
    parser = build_parser()
    overrides = re.findall(r'"command":\s*(\[[^\]]*\])', OPERATE.read_text())
    assert len(overrides) >= 2  # the backfill and the migration
    for override in overrides:
        arguments = parser.parse_args(json.loads(override))
        assert arguments.handler is not None, override


def test_the_secrets_it_names_are_the_task_definition_s():
    (bot,) = load_task_definition()["containerDefinitions"]
    text = OPERATE.read_text()
    for secret in bot["secrets"]:
        assert f"`{secret['name']}`" in text
        path = secret["valueFrom"].split(":parameter", 1)[-1].split(":secret:", 1)[-1]
        if ":secret:" in secret["valueFrom"]:  # a Secrets Manager ARN ends in -<6 random characters>
            assert re.fullmatch(r".+-[A-Za-z0-9]{6}", path), path
            path = path[:-7]
        assert path in text, path  # the put-parameter / put-secret-value names match the valueFrom ARNs


def test_the_series_to_watch_exist(sqlite_store):
    """Every series the doc says to watch is one the bot exports: a family or a sample name of what one scrape
    holds (the process's metric objects and the bug counts), asked of the metric objects themselves."""
    initialise_sources(("zendesk", "shortcut"))  # as the bot does for the sources it pulls: label sets at 0
    exported = set()
    for family in (*REGISTRY.collect(), *BugCountsCollector(sqlite_store).describe()):
        exported |= {family.name, *(sample.name for sample in family.samples)}
    named = set(re.findall(r"bugtracker_\w+", OPERATE.read_text()))
    assert named and named <= exported, named - exported


def test_every_ecs_command_names_its_cluster():
    """A service or task command without --cluster acts on the account's `default` cluster, not ours."""
    text = re.sub(r"\\\n\s*", " ", OPERATE.read_text())  # shell continuation lines joined
    commands = re.findall(r"aws ecs ([a-z-]+)[^\n`]*", text)
    assert len(commands) >= 4
    for line in re.findall(r"aws ecs [a-z-]+[^\n`]*", text):
        verb = line.split()[2]
        if verb in ("register-task-definition", "create-cluster"):  # not cluster-scoped
            continue
        assert "--cluster bugtracker" in line, line
