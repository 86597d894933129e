"""deploy/terraform: the ECS side of a deployment is complete (cluster, execution role with its trust and
attachments, the service in a security group registered in Cloud Map, the log group, all five secrets), in
step with deploy/ecs-task-definition.json, and neither root module has a default region."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.deploy_files import ROOT, load_task_definition
from tests.support.terraform_hcl import find_block, load_hcl, parse_terraform, read_terraform_sources

DEPLOY_TERRAFORM = ROOT / "deploy" / "terraform"


@pytest.fixture(scope="module")
def deploy_config() -> dict[str, list[Any]]:
    return parse_terraform(read_terraform_sources(DEPLOY_TERRAFORM))


def _resource(config: dict[str, list[Any]], kind: str, name: str) -> dict[str, Any]:
    return find_block(config, "resource", kind, name)


def _variables(config: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    return {name: body for block in config["variable"] for name, body in block.items()}


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("aws_ecs_cluster", "bugtracker"),
        ("aws_cloudwatch_log_group", "bot"),
        ("aws_ecs_task_definition", "bot"),
        ("aws_ecs_service", "bot"),
        ("aws_iam_role", "task_execution"),
        ("aws_iam_role_policy_attachment", "task_execution"),
        ("aws_iam_role_policy", "read_secrets"),
        ("aws_security_group", "bot"),
        ("aws_service_discovery_private_dns_namespace", "bugtracker"),
        ("aws_service_discovery_service", "bot"),
        ("aws_ssm_parameter", "secret"),
        ("aws_secretsmanager_secret", "secret"),
    ],
)
def test_every_piece_of_the_deployment_is_created(deploy_config, kind, name):
    assert _resource(deploy_config, kind, name)


def test_the_execution_role_is_for_ecs_tasks_with_ecs_policy(deploy_config):
    trust = find_block(deploy_config, "data", "aws_iam_policy_document", "ecs_tasks_assume_role")
    principals = trust["statement"][0]["principals"]
    principals = principals[0] if isinstance(principals, list) else principals
    assert principals["identifiers"] == ["ecs-tasks.amazonaws.com"]
    attached = _resource(deploy_config, "aws_iam_role_policy_attachment", "task_execution")
    assert attached["policy_arn"].endswith("service-role/AmazonECSTaskExecutionRolePolicy")


def test_the_service_runs_in_the_cluster_and_registers_in_cloud_map(deploy_config):
    service = _resource(deploy_config, "aws_ecs_service", "bot")
    assert "aws_ecs_cluster.bugtracker" in service["cluster"]
    registries = service["service_registries"]
    registries = registries[0] if isinstance(registries, list) else registries
    assert "aws_service_discovery_service.bot" in registries["registry_arn"]
    network = service["network_configuration"]
    network = network[0] if isinstance(network, list) else network
    assert network["assign_public_ip"] is False


def _secret_names(source: str) -> list[str]:
    return re.findall(r'\{ name = "([A-Z_]+)", valueFrom = ', source)


def test_all_five_secrets_are_created_and_handed_to_the_container():
    main = (DEPLOY_TERRAFORM / "main.tf").read_text()
    task = load_task_definition()
    expected = {secret["name"] for secret in task["containerDefinitions"][0]["secrets"]}
    assert len(expected) == 5
    assert set(_secret_names(main)) == expected
    secrets = (DEPLOY_TERRAFORM / "secrets.tf").read_text()
    keys = re.findall(r'"([a-z-]+-token)"', secrets)
    assert len(set(keys)) == 5
    # Secrets Manager ARNs carry a random suffix: the container gets the resource's own .arn, never a name
    assert "aws_secretsmanager_secret.secret[" in main and ":secret:" not in main


def test_the_container_is_the_example_task_definitions():
    main = (DEPLOY_TERRAFORM / "main.tf").read_text()
    task = load_task_definition()
    container = task["containerDefinitions"][0]
    for variable in container["environment"]:
        assert f'name = "{variable["name"]}"' in main, variable["name"]
    for mapping in container["portMappings"]:
        assert f"containerPort = {mapping['containerPort']}" in main
    assert task["runtimePlatform"]["cpuArchitecture"] == "X86_64" and '"X86_64"' in main
    assert json.dumps(container["healthCheck"]["command"][-1])[1:-1].replace("\\'", "'") in main
    assert f"stopTimeout = {container['stopTimeout']}" in main


@pytest.mark.parametrize("directory", [ROOT / "terraform", DEPLOY_TERRAFORM])
def test_no_root_module_has_a_default_region_and_the_example_sets_it(directory: Path):
    variables = _variables(parse_terraform(read_terraform_sources(directory)))
    assert "default" not in variables["aws_region"]
    example = load_hcl((directory / "terraform.tfvars.example").read_text())
    assert example["aws_region"] and example["table_name"]
    assert set(example) <= set(variables), set(example) - set(variables)


def test_state_and_plans_are_not_committed():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    for pattern in ("*.plan", "terraform.tfvars", "*.tfstate*", ".terraform/"):
        assert pattern in ignored, pattern
    assert (DEPLOY_TERRAFORM / "backend.tf.example").exists()  # remote state, written out
