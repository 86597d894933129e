"""The layers point one way: storage/ and adapters/ never import the running process (bot/), and below the
entry points (python -m bot, the bugtracker command) nothing imports the composition root."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.python_source import parse

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINTS = {"bot/run.py", "bot/__main__.py"}


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_storage_and_adapters_never_import_the_bot() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in _imported_modules(path) if name.split(".")[0] == "bot"
        )
        for package in ("storage", "adapters")
        for path in _modules(package)
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_only_the_entry_points_import_bootstrap() -> None:
    importers = sorted(
        relative
        for path in _modules("bot")
        if (relative := str(path.relative_to(ROOT))) not in ENTRY_POINTS
        and not relative.startswith("bot/cli/")
        and relative != "bot/bootstrap.py"
        and "bot.bootstrap" in _imported_modules(path)
    )
    assert importers == []


def test_the_checks_see_an_offending_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from bot import bootstrap\nimport bot.slack.app\n")
    assert {"bot.bootstrap", "bot.slack.app"} <= _imported_modules(module)
