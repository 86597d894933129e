"""The bot's IAM policy grants exactly storage.schema.REQUIRED_IAM_ACTIONS, which is what storage/ calls."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import botocore.session
from botocore import xform_name

from storage.schema import REQUIRED_IAM_ACTIONS
from tests.support.python_source import parse
from tests.support.terraform_hcl import find_block

POLICY = ("data", "aws_iam_policy_document", "bot_table_access")
TABLE_ARN = "${aws_dynamodb_table.bugtracker.arn}"
STORAGE_DIR = Path(__file__).resolve().parents[3] / "storage"

# Operations whose IAM authorisation is not an action of the same name.
IAM_ACTIONS_FOR_OPERATION = {
    # Each action inside a transaction is authorised by its per-item action (DynamoDB developer guide,
    # "Using IAM with DynamoDB transactions"); we require all four because any may appear in one.
    "transact_write_items": {"PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"},
    "transact_get_items": {"GetItem"},
}
# Waiters poll an operation under another name.
IAM_ACTIONS_FOR_WAITER = {"table_exists": {"DescribeTable"}, "table_not_exists": {"DescribeTable"}}
# `bugtracker init` creates the table only on a local endpoint; in AWS, Terraform owns the table.
# Only on a local endpoint (`bugtracker init` / `migrate`); on AWS the table and its indexes are Terraform's.
NOT_GRANTED_ON_PURPOSE = {"CreateTable", "UpdateTable"}
# Scan is granted for the daily recount and the migration's backfill only; no read path may scan.
SCANNING_MODULES = {"dynamodb.py"}  # one paged-scan helper, DynamoDBTable.scan_pages


def policy_statements(config):
    return {statement["sid"]: statement for statement in find_block(config, *POLICY)["statement"]}


def test_policy_grants_exactly_the_declared_dynamodb_actions(terraform_config):
    granted = {
        action
        for statement in policy_statements(terraform_config).values()
        for action in statement["actions"]
        if action.startswith("dynamodb:")
    }

    assert sorted(granted) == sorted(REQUIRED_IAM_ACTIONS)


def test_policy_is_scoped_to_the_table_its_indexes_and_its_key(terraform_config):
    statements = policy_statements(terraform_config)

    assert statements["BugTrackerTableItems"]["resources"] == [TABLE_ARN]
    assert statements["BugTrackerIndexQueries"]["resources"] == [f"{TABLE_ARN}/index/*"]
    assert statements["BugTrackerIndexQueries"]["actions"] == ["dynamodb:Query"]
    key_statement = statements["BugTrackerTableKeyViaDynamoDB"]
    assert key_statement["resources"] == ["${aws_kms_key.bugtracker.arn}"]
    assert sorted(key_statement["actions"]) == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    assert key_statement["condition"][0]["variable"] == "kms:ViaService"
    for statement in statements.values():
        assert statement["effect"] == "Allow"
        assert not any("*" in action for action in statement["actions"]), statement["sid"]


def dynamodb_operations_used(source: str) -> set[str]:
    """snake_case DynamoDB operations a module calls: `client.put_item(...)`, `self.call("put_item", ...)`,
    `get_paginator("query")`, `get_waiter("table_exists")` all count."""
    operations = {xform_name(name) for name in _dynamodb_operation_names()}
    used = set()
    for node in ast.walk(parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in operations:
            used.add(node.attr)
        elif isinstance(node, ast.Constant) and node.value in operations | IAM_ACTIONS_FOR_WAITER.keys():
            used.add(node.value)
    return used


def iam_actions_for(operations: set[str]) -> set[str]:
    actions = set()
    for operation in operations:
        names = IAM_ACTIONS_FOR_WAITER.get(operation) or IAM_ACTIONS_FOR_OPERATION.get(operation)
        if names is None:
            names = {name for name in _dynamodb_operation_names() if xform_name(name) == operation}
        actions |= {f"dynamodb:{name}" for name in names}
    return actions


@functools.cache
def _dynamodb_operation_names() -> tuple[str, ...]:
    """DynamoDB's operations as botocore's service model names them (read once: a new session parses the
    model's JSON again each time)."""
    return tuple(botocore.session.get_session().get_service_model("dynamodb").operation_names)


def test_storage_calls_exactly_the_declared_dynamodb_actions():
    modules = {path.name: path.read_text() for path in sorted(STORAGE_DIR.glob("*.py"))}
    used = {path: iam_actions_for(dynamodb_operations_used(text)) for path, text in modules.items()}
    allowed = set(REQUIRED_IAM_ACTIONS) | {f"dynamodb:{name}" for name in NOT_GRANTED_ON_PURPOSE}

    assert set().union(*used.values()), "found no DynamoDB calls in storage/ at all; the scan is not looking"
    missing = {path: sorted(actions - allowed) for path, actions in used.items() if actions - allowed}
    assert not missing, f"storage/ calls DynamoDB operations the IAM policy does not grant: {missing}"
    # And least privilege the other way round: nothing declared (so granted) that storage/ never calls.
    unused = set(REQUIRED_IAM_ACTIONS) - set().union(*used.values())
    assert not unused, f"REQUIRED_IAM_ACTIONS declares actions storage/ never calls: {sorted(unused)}"


def test_the_scan_sees_each_way_code_calls_dynamodb():
    source = (
        "client.put_item(TableName='t')\n"
        "self.call('batch_get_item', RequestItems={})\n"
        "client.get_paginator('scan')\n"
        "client.get_waiter('table_exists')\n"
        "client.transact_write_items(TransactItems=[])\n"
        "conn.execute('select 1')\n"
    )

    assert iam_actions_for(dynamodb_operations_used(source)) == {
        "dynamodb:PutItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Scan",
        "dynamodb:DescribeTable",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    }
    # ...so a Scan anywhere but the recount and the migration is caught:
    scanning = {
        path.name
        for path in sorted(STORAGE_DIR.glob("*.py"))
        if "dynamodb:Scan" in iam_actions_for(dynamodb_operations_used(path.read_text()))
    }
    assert scanning == SCANNING_MODULES


def test_only_the_recount_and_the_migration_scan():
    source = (STORAGE_DIR / "dynamodb.py").read_text()
    scanning_functions = {
        node.name
        for node in ast.walk(parse(source))
        if isinstance(node, ast.FunctionDef) and "scan" in dynamodb_operations_used(ast.unparse(node))
    }
    assert scanning_functions == {"scan_pages"}
    paging_scans = {
        node.name
        for path in sorted(STORAGE_DIR.glob("*.py"))
        for node in ast.walk(parse(path.read_text()))
        if isinstance(node, ast.FunctionDef)
        and node.name != "scan_pages"
        and any(isinstance(call, ast.Attribute) and call.attr == "scan_pages" for call in ast.walk(node))
    }
    # the recount's pass (records, and the impact tallies it corrects) and the migration's backfill
    assert paging_scans == {"scan_records", "scan_impacts", "backfill"}
