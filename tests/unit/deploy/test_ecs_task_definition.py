"""deploy/ecs-task-definition.json: valid for ECS, and in step with the image, the config and Terraform."""

from __future__ import annotations

import json
import re

import botocore.session
from botocore.validate import ParamValidator

from tests.support.deploy_files import (
    ROOT,
    dockerfile_instructions,
    final_stage,
    healthcheck_command,
    load_task_definition,
)

ENV_EXAMPLE = ROOT / ".env.example"
SECRET_VARIABLES = {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "ZENDESK_API_TOKEN", "SHORTCUT_API_TOKEN"}
SECRET_VARIABLES |= {"METRICS_API_TOKEN"}
SECRET_ARN = re.compile(
    r"^arn:aws:(ssm:[a-z0-9-]+:\d{12}:parameter/|secretsmanager:[a-z0-9-]+:\d{12}:secret:)\S+$"
)


def container() -> dict:
    (bot,) = load_task_definition()["containerDefinitions"]
    return bot


def test_it_is_what_register_task_definition_accepts():
    """`aws ecs register-task-definition --cli-input-json file://deploy/ecs-task-definition.json`."""
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    report = ParamValidator().validate(load_task_definition(), shape)
    assert not report.has_errors(), report.generate_report()
    assert load_task_definition()["requiresCompatibilities"] == ["FARGATE"]


def test_secrets_come_from_ssm_or_secrets_manager_never_as_plain_values():
    bot = container()
    secrets = {secret["name"]: secret["valueFrom"] for secret in bot["secrets"]}
    assert set(secrets) == SECRET_VARIABLES
    assert all(SECRET_ARN.match(arn) for arn in secrets.values()), secrets
    assert {"ssm", "secretsmanager"} == {arn.split(":")[2] for arn in secrets.values()}
    plain = {variable["name"] for variable in bot["environment"]}
    assert not plain & SECRET_VARIABLES
    assert not any("TOKEN" in name or "SECRET" in name or "PASSWORD" in name for name in plain)


def test_every_variable_is_one_the_bot_reads():
    documented = set(re.findall(r"^# ?([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    bot = container()
    names = {variable["name"] for variable in bot["environment"]} | {s["name"] for s in bot["secrets"]}
    assert names <= documented, names - documented
    assert {"DYNAMODB_TABLE", "AWS_REGION", "SLACK_CHANNEL_ID"} <= names  # DynamoDB, one channel set


def test_it_runs_the_image_as_the_image_means():
    stage = dict(final_stage(dockerfile_instructions()))
    bot = container()
    assert bot["command"] == json.loads(stage["CMD"])
    uid = re.search(r"--uid (\d+)", stage["RUN"]).group(1)
    assert bot["user"] == uid
    env = {variable["name"]: variable["value"] for variable in bot["environment"]}
    ports = [mapping["containerPort"] for mapping in bot["portMappings"]]
    assert ports == [int(env["METRICS_PORT"]), int(env["HEALTH_PORT"])]
    assert env["METRICS_HOST"] == "0.0.0.0"
    assert bot["healthCheck"]["command"] == ["CMD", *healthcheck_command(dockerfile_instructions())]


def test_the_task_role_is_terraforms_bot_role():
    variables = (ROOT / "terraform" / "variables.tf").read_text()
    role = re.search(r'variable "bot_role_name" \{.*?default\s*=\s*"([^"]+)"', variables, re.DOTALL).group(1)
    principals = re.search(
        r'variable "bot_principal_identifiers" \{.*?default\s*=\s*\[([^\]]*)\]', variables, re.DOTALL
    )
    assert load_task_definition()["taskRoleArn"].endswith(f":role/{role}")
    assert '"ecs-tasks.amazonaws.com"' in principals.group(1)
