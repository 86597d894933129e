"""The deployment files (Dockerfile, compose.yaml, deploy/), read as the tests need them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
TASK_DEFINITION = ROOT / "deploy" / "ecs-task-definition.json"


def dockerfile_instructions(text: str | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    text = DOCKERFILE.read_text() if text is None else text
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        instructions.append((keyword.upper(), re.sub(r"\s+", " ", arguments.strip())))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :]


def image_env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    """The ENV of the final stage (KEY=value forms)."""
    env: dict[str, str] = {}
    for keyword, arguments in final_stage(instructions):
        if keyword == "ENV":
            for key, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", arguments):
                env[key] = value
    return env


def healthcheck_command(instructions: list[tuple[str, str]]) -> list[str]:
    """The final stage's HEALTHCHECK command, exec form (["python3", "-c", ...])."""
    check = dict(final_stage(instructions))["HEALTHCHECK"]
    return json.loads(check[check.index("CMD ") + 4 :])


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def load_task_definition() -> dict:
    return json.loads(TASK_DEFINITION.read_text())
