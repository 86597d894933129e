"""Read terraform/*.tf with python-hcl2 as one plain dict (helpers for the tests in this folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2

TERRAFORM_DIR = Path(__file__).resolve().parents[2] / "terraform"


def load_hcl(text: str) -> dict[str, Any]:
    """HCL text -> dict with plain (unquoted) strings and no block markers, on python-hcl2 4.x to 8.x."""
    options_type = getattr(hcl2, "SerializationOptions", None)
    if options_type is None:  # before 8.0 the plain form was the only form
        return hcl2.loads(text)
    options = options_type(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    return hcl2.loads(text, serialization_options=options)


def merge_hcl(documents: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Terraform treats every .tf file of a directory as one configuration; so do we."""
    merged: dict[str, list[Any]] = {}
    for document in documents:
        for block_type, blocks in document.items():
            merged.setdefault(block_type, []).extend(blocks)
    return merged


def find_block(config: dict[str, list[Any]], block_type: str, kind: str, name: str) -> dict[str, Any]:
    """e.g. find_block(config, "resource", "aws_dynamodb_table", "bugtracker")."""
    for block in config.get(block_type, []):
        if name in block.get(kind, {}):
            return block[kind][name]
    raise KeyError(f'{block_type} "{kind}" "{name}" not found in terraform/')


def variable_default(config: dict[str, list[Any]], name: str) -> Any:
    for block in config.get("variable", []):
        if name in block:
            return block[name].get("default")
    raise KeyError(f'variable "{name}" not found in terraform/')


def read_terraform_sources(directory: Path = TERRAFORM_DIR) -> dict[str, str]:
    sources = {path.name: path.read_text() for path in sorted(directory.glob("*.tf"))}
    if not sources:
        raise FileNotFoundError(f"no .tf files in {directory}")
    return sources


def parse_terraform(sources: dict[str, str]) -> dict[str, list[Any]]:
    return merge_hcl([load_hcl(text) for text in sources.values()])
