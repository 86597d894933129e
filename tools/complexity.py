"""A complexity ratchet over ruff's C901 (McCabe; the limit is `[tool.ruff.lint.mccabe]` in pyproject.toml).

`tools/complexity_baseline.txt` lists the functions that were over the limit when the rule came in, each with
its complexity then. The check fails when:
- a function not in the list is over the limit (a new one, or one that grew past it);
- a listed function is more complex than its recorded figure;
- the list could shrink: a listed function is gone, back within the limit, or simpler than recorded
  (lower its figure or drop its line: `python -m tools.complexity --update` rewrites the file, and refuses
  to add or raise anything).
So the baseline only goes down. Functions are named by file and name, not line, so moving code within a
file does not disturb it; a listed function moved to another file takes its line along (edited by hand, with
the same figure or a lower one).

    python -m tools.complexity           # check (make lint, make test, pre-commit)
    python -m tools.complexity --update  # after simplifying a listed function
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


def read_baseline(text: str) -> dict[Key, int]:
    """`path function complexity` per line; `#` starts a comment."""
    baseline: dict[Key, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 3 or not parts[2].isdigit():
            raise ValueError(f"{BASELINE.name} line {number}: expected 'path function complexity'")
        baseline[(parts[0], parts[1])] = int(parts[2])
    return baseline


def format_baseline(entries: dict[Key, int]) -> str:
    header = (
        "# Functions over ruff's C901 limit (pyproject.toml [tool.ruff.lint.mccabe]) and their complexity.\n"
        "# This list may only shrink: tools/complexity.py says how.\n"
    )
    return header + "".join(f"{path} {name} {n}\n" for (path, name), n in sorted(entries.items()))


def problems(found: dict[Key, int], baseline: dict[Key, int]) -> list[str]:
    """What makes the check fail (empty: it passes)."""
    said = []
    for key, complexity in sorted(found.items()):
        allowed = baseline.get(key)
        if allowed is None:
            said.append(f"{_name(key)} is too complex ({complexity}): split it (it is not in the baseline)")
        elif complexity > allowed:
            said.append(f"{_name(key)} grew from {allowed} to {complexity}: the baseline only goes down")
    for key, allowed in sorted(baseline.items()):
        now = found.get(key)
        if now is None:
            said.append(f"{_name(key)} is within the limit or gone: drop it from the baseline (--update)")
        elif now < allowed:
            said.append(
                f"{_name(key)} went down from {allowed} to {now}: lower it in the baseline (--update)"
            )
    return said


def lowered(found: dict[Key, int], baseline: dict[Key, int]) -> dict[Key, int]:
    """The baseline brought down to what is measured; never adds an entry or raises a figure."""
    return {key: found[key] for key in baseline if key in found and found[key] <= baseline[key]}


def _name(key: Key) -> str:
    return f"{key[0]}: {key[1]}"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.complexity", description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="lower the baseline to what is measured")
    args = parser.parse_args(None if argv is None else list(argv))
    found = measure()
    baseline = read_baseline(BASELINE.read_text(encoding="utf-8"))
    if args.update:
        BASELINE.write_text(format_baseline(lowered(found, baseline)), encoding="utf-8")
        baseline = read_baseline(BASELINE.read_text(encoding="utf-8"))
    said = problems(found, baseline)
    for line in said:
        print(f"complexity: {line}", file=sys.stderr)
    return 1 if said else 0


if __name__ == "__main__":
    sys.exit(main())
