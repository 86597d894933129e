"""Every relative link in the README and docs/ leads to a file that exists and, with an anchor, to one of
its headings (GitHub's anchors: lower case, punctuation dropped, spaces to hyphens)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def anchors(path: Path) -> set[str]:
    found = set()
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_resolves(document: Path):
    for target, anchor in re.findall(r"\]\(([^)#\s]+)?(?:#([^)\s]+))?\)", document.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path = (document.parent / target).resolve() if target else document
        assert path.exists(), f"{document.name}: {target}"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path), f"{document.name}: {target}#{anchor}"
