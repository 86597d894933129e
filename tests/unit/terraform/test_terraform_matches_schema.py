"""terraform/ must describe the same table as storage.schema.create_table_request (the one definition)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from storage.schema import DEFAULT_TABLE_NAME, create_table_request
from tests.support.terraform_hcl import find_block, parse_terraform, variable_default

TABLE = ("resource", "aws_dynamodb_table", "bugtracker")

# Terraform spells the billing mode the API's way; kept as a map so a new mode cannot slip through unnoticed.
TERRAFORM_BILLING_MODES = {"PAY_PER_REQUEST": "PAY_PER_REQUEST", "PROVISIONED": "PROVISIONED"}


def spec_from_request(request: dict[str, Any]) -> dict[str, Any]:
    """The comparable parts of a CreateTable request; lists that are sets in DynamoDB become sets."""
    keys = {k["KeyType"]: k["AttributeName"] for k in request["KeySchema"]}
    indexes = {}
    for index in request.get("GlobalSecondaryIndexes", []):
        index_keys = {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
        indexes[index["IndexName"]] = {
            "hash_key": index_keys.get("HASH"),
            "range_key": index_keys.get("RANGE"),
            "projection_type": index["Projection"]["ProjectionType"],
            "non_key_attributes": frozenset(index["Projection"].get("NonKeyAttributes", [])),
        }
    return {
        "table_name": request["TableName"],
        "billing_mode": request["BillingMode"],
        "hash_key": keys.get("HASH"),
        "range_key": keys.get("RANGE"),
        "attributes": {a["AttributeName"]: a["AttributeType"] for a in request["AttributeDefinitions"]},
        "indexes": indexes,
    }


def spec_from_terraform(config: dict[str, list[Any]]) -> dict[str, Any]:
    """The same parts read from the aws_dynamodb_table resource (table name via its variable's default)."""
    table = find_block(config, *TABLE)
    name = table["name"]
    if name == "${var.table_name}":
        name = variable_default(config, "table_name")
    indexes = {}
    for index in table.get("global_secondary_index", []):
        indexes[index["name"]] = {
            "hash_key": index.get("hash_key"),
            "range_key": index.get("range_key"),
            "projection_type": index.get("projection_type"),
            "non_key_attributes": frozenset(index.get("non_key_attributes", [])),
        }
    return {
        "table_name": name,
        "billing_mode": TERRAFORM_BILLING_MODES.get(table.get("billing_mode", "PROVISIONED"), "?"),
        "hash_key": table.get("hash_key"),
        "range_key": table.get("range_key"),
        "attributes": {a["name"]: a["type"] for a in table.get("attribute", [])},
        "indexes": indexes,
    }


def schema_differences(code: dict[str, Any], terraform: dict[str, Any]) -> list[str]:
    """Every way the two specs differ, one readable line each (empty when they match)."""
    differences = []
    for field in ("table_name", "billing_mode", "hash_key", "range_key", "attributes"):
        if code[field] != terraform[field]:
            differences.append(f"{field}: code {code[field]!r} != terraform {terraform[field]!r}")
    for name in sorted(code["indexes"].keys() | terraform["indexes"].keys()):
        if name not in terraform["indexes"]:
            differences.append(f"index {name}: in code, missing from terraform")
        elif name not in code["indexes"]:
            differences.append(f"index {name}: in terraform, missing from code")
        else:
            for field, value in code["indexes"][name].items():
                other = terraform["indexes"][name][field]
                if value != other:
                    differences.append(f"index {name} {field}: code {value!r} != terraform {other!r}")
    return differences


def test_terraform_table_matches_the_schema_in_code(terraform_config):
    code = spec_from_request(create_table_request(DEFAULT_TABLE_NAME))
    terraform = spec_from_terraform(terraform_config)

    assert schema_differences(code, terraform) == []
    # The comparison is only meaningful if it actually saw the indexes and attributes.
    assert set(terraform["indexes"]) == {
        "live-priority-index",
        "live-state-index",
        "live-source-index",
        "unlinked-index",
        "open-impact-index",
    }
    assert len(terraform["attributes"]) == 9


def test_table_name_defaults_to_the_codes_default(terraform_config):
    assert variable_default(terraform_config, "table_name") == DEFAULT_TABLE_NAME == "BugTracker"


def test_table_has_recovery_encryption_and_deletion_protection(terraform_config):
    table = find_block(terraform_config, *TABLE)

    assert table["point_in_time_recovery"][0]["enabled"] is True
    assert table["server_side_encryption"][0]["enabled"] is True
    assert table["server_side_encryption"][0]["kms_key_arn"] == "${aws_kms_key.bugtracker.arn}"
    assert table["deletion_protection_enabled"] == "${var.deletion_protection}"
    assert variable_default(terraform_config, "deletion_protection") is True
    assert (
        find_block(terraform_config, "resource", "aws_kms_key", "bugtracker")["enable_key_rotation"] is True
    )


# Each edit is a realistic drift of the .tf text; the comparison must notice every one of them.
TERRAFORM_DRIFTS = [
    ('billing_mode = "PAY_PER_REQUEST"', 'billing_mode = "PROVISIONED"'),
    ('range_key    = "sourceRecord"', 'range_key    = "recordKey"'),
    ('name            = "live-state-index"', 'name            = "status-index"'),
    ('projection_type = "INCLUDE"', 'projection_type = "ALL"'),
    ('"recordId", "homeId", "title", "priority",', '"recordId", "homeId", "priority",'),
    ('hash_key        = "livePriority"', 'hash_key        = "priority"'),
    ('default     = "BugTracker"', 'default     = "Bugs"'),
    ('name = "createdAt"\n    type = "S"', 'name = "createdAt"\n    type = "N"'),
]


@pytest.mark.parametrize(("old", "new"), TERRAFORM_DRIFTS, ids=[new for _, new in TERRAFORM_DRIFTS])
def test_comparison_catches_terraform_drift(terraform_sources, old, new):
    drifted = dict(terraform_sources)
    holders = [name for name, text in drifted.items() if old in text]
    assert holders, f"drift fixture out of date: {old!r} not found in terraform/"
    drifted[holders[0]] = drifted[holders[0]].replace(old, new, 1)

    code = spec_from_request(create_table_request(DEFAULT_TABLE_NAME))
    differences = schema_differences(code, spec_from_terraform(parse_terraform(drifted)))

    assert differences, f"changing {old!r} to {new!r} went unnoticed"


def _drop_last_index(request):
    request["GlobalSecondaryIndexes"].pop()


def _add_summary_attribute(request):
    request["GlobalSecondaryIndexes"][0]["Projection"]["NonKeyAttributes"].append("assignee")


def _add_key_attribute(request):
    request["AttributeDefinitions"].append({"AttributeName": "updatedAt", "AttributeType": "S"})


def _change_index_sort_key(request):
    request["GlobalSecondaryIndexes"][1]["KeySchema"][1]["AttributeName"] = "updatedAt"


@pytest.mark.parametrize(
    "drift", [_drop_last_index, _add_summary_attribute, _add_key_attribute, _change_index_sort_key]
)
def test_comparison_catches_schema_drift_in_code(terraform_config, drift):
    request = copy.deepcopy(create_table_request(DEFAULT_TABLE_NAME))
    drift(request)

    assert schema_differences(spec_from_request(request), spec_from_terraform(terraform_config))


def test_non_key_attributes_compare_as_sets():
    request = create_table_request(DEFAULT_TABLE_NAME)
    reordered = copy.deepcopy(request)
    for index in reordered["GlobalSecondaryIndexes"]:
        index["Projection"]["NonKeyAttributes"].reverse()

    assert schema_differences(spec_from_request(request), spec_from_request(reordered)) == []
