"""Fixtures: the repository's Terraform, read once per session."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.terraform_hcl import parse_terraform, read_terraform_sources


@pytest.fixture(scope="session")
def terraform_sources() -> dict[str, str]:
    return read_terraform_sources()


@pytest.fixture(scope="session")
def terraform_config(terraform_sources: dict[str, str]) -> dict[str, list[Any]]:
    return parse_terraform(terraform_sources)
