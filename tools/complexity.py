"""A complexity ratchet over ruff's C901 (McCabe; the limit is `[tool.ruff.lint.mccabe]` in pyproject.toml).

`tools/complexity_baseline.txt` lists the functions that were over the limit when the rule came in. The check
fails when:
- a function not in the list is over the limit (a new one, or one that grew past it): split it;
- the list could shrink: a listed function is gone or back within the limit (drop its line:
  `python -m tools.complexity --update` rewrites the file, and never adds a line).
So the baseline only goes down. Functions are named by file and name, not line, so moving code within a
file does not disturb it; a listed function moved to another file takes its line along (edited by hand).

    python -m tools.complexity           # check (make lint, make test, pre-commit)
    python -m tools.complexity --update  # after bringing a listed function within the limit
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tools" / "complexity_baseline.txt"
_MESSAGE = re.compile(r"^`(?P<name>[^`]+)` is too complex \((?P<complexity>\d+) > \d+\)$")

Key = tuple[str, str]  # (path relative to the repository, function name)


def measure(root: Path = ROOT) -> dict[Key, int]:
    """Every function over the limit now, with its complexity (the highest when a file has two of a name)."""
    ruff = Path(sys.executable).with_name("ruff")
    command = [str(ruff) if ruff.exists() else "ruff", "check", "--select", "C901", "--output-format", "json"]
    answer = subprocess.run(
        [*command, "--exit-zero", "."], cwd=root, capture_output=True, text=True, check=True
    )
    found: dict[Key, int] = {}
    for finding in json.loads(answer.stdout):
        match = _MESSAGE.match(finding["message"])
        if finding["code"] != "C901" or match is None:
            raise ValueError(f"unexpected ruff finding: {finding['message']!r}")
        path = Path(finding["filename"]).resolve().relative_to(root.resolve()).as_posix()
        key = (path, match["name"])
        found[key] = max(found.get(key, 0), int(match["complexity"]))
    return found


def read_baseline(text: str) -> set[Key]:
    """`path function` per line; `#` starts a comment."""
    baseline: set[Key] = set()
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ValueError(f"{BASELINE.name} line {number}: expected 'path function'")
        baseline.add((parts[0], parts[1]))
    return baseline


def format_baseline(entries: Iterable[Key]) -> str:
    header = (
        "# Functions over ruff's C901 limit (pyproject.toml [tool.ruff.lint.mccabe]) when the check began.\n"
        "# This list may only shrink: tools/complexity.py says how.\n"
    )
    return header + "".join(f"{path} {name}\n" for path, name in sorted(entries))


def problems(found: dict[Key, int], baseline: set[Key]) -> list[str]:
    """What makes the check fail (empty: it passes)."""
    said = [
        f"{_name(key)} is too complex ({complexity} > the limit): split it (it is not in the baseline)"
        for key, complexity in sorted(found.items())
        if key not in baseline
    ]
    said += [
        f"{_name(key)} is within the limit or gone: drop it from the baseline (--update)"
        for key in sorted(baseline)
        if key not in found
    ]
    return said


def lowered(found: dict[Key, int], baseline: set[Key]) -> set[Key]:
    """The baseline without what is no longer over the limit; never adds an entry."""
    return {key for key in baseline if key in found}


def _name(key: Key) -> str:
    return f"{key[0]}: {key[1]}"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.complexity", description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="drop what is no longer over the limit")
    args = parser.parse_args(None if argv is None else list(argv))
    found = measure()
    baseline = read_baseline(BASELINE.read_text(encoding="utf-8"))
    if args.update:
        baseline = lowered(found, baseline)
        BASELINE.write_text(format_baseline(baseline), encoding="utf-8")
    said = problems(found, baseline)
    for line in said:
        print(f"complexity: {line}", file=sys.stderr)
    return 1 if said else 0


if __name__ == "__main__":
    sys.exit(main())
