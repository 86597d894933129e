"""docs/terraform.md names the DynamoDB actions the policy grants: storage.schema.REQUIRED_IAM_ACTIONS."""

from __future__ import annotations

import re
from pathlib import Path

from storage.schema import REQUIRED_IAM_ACTIONS

DOC = Path(__file__).resolve().parents[3] / "docs" / "terraform.md"


def test_the_documented_grant_is_the_code_s():
    text = DOC.read_text()
    paragraph = text[text.index("The policy grants exactly") :].split("\n\n")[0]
    on_the_table = paragraph[: paragraph.index("on the table")]
    documented = set(re.findall(r"`([A-Za-z]+)`", on_the_table))
    assert documented == {action.removeprefix("dynamodb:") for action in REQUIRED_IAM_ACTIONS}


def test_no_line_denies_an_action_the_policy_grants():
    for line in DOC.read_text().splitlines():
        for action in REQUIRED_IAM_ACTIONS:
            name = action.removeprefix("dynamodb:")
            assert f"No `{name}`" not in line, line
