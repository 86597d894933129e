resource "aws_ecs_cluster" "bugtracker" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "bot" {
  #checkov:skip=CKV_AWS_158:the bot never logs a secret (redacted at the formatter); CloudWatch's own encryption at rest
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

locals {
  # The same container as deploy/ecs-task-definition.json (tests/unit/deploy checks they agree).
  environment = concat(
    [
      { name = "DYNAMODB_TABLE", value = var.table_name },
      { name = "AWS_REGION", value = var.aws_region },
      { name = "SLACK_CHANNEL_ID", value = join(",", var.slack_channel_ids) },
      { name = "METRICS_PORT", value = "9464" },
      { name = "METRICS_HOST", value = "0.0.0.0" },
      { name = "HEALTH_PORT", value = "8080" },
      { name = "METRICS_ALLOWED_HOSTS", value = "bot.${var.service_discovery_namespace}" },
      { name = "LOG_LEVEL", value = "INFO" },
    ],
    var.zendesk_subdomain == "" ? [] : [
      { name = "ZENDESK_SUBDOMAIN", value = var.zendesk_subdomain },
      { name = "ZENDESK_EMAIL", value = var.zendesk_email },
    ],
  )

  # Every secret the bot reads, by the full ARN (a Secrets Manager ARN carries its random suffix).
  secrets = [
    { name = "SLACK_BOT_TOKEN", valueFrom = aws_ssm_parameter.secret["slack-bot-token"].arn },
    { name = "SLACK_APP_TOKEN", valueFrom = aws_ssm_parameter.secret["slack-app-token"].arn },
    { name = "METRICS_API_TOKEN", valueFrom = aws_ssm_parameter.secret["metrics-api-token"].arn },
    { name = "ZENDESK_API_TOKEN", valueFrom = aws_secretsmanager_secret.secret["zendesk-api-token"].arn },
    { name = "SHORTCUT_API_TOKEN", valueFrom = aws_secretsmanager_secret.secret["shortcut-api-token"].arn },
  ]
}

resource "aws_ecs_task_definition" "bot" {
  family                   = "${var.name}-bot"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  task_role_arn            = var.task_role_arn
  execution_role_arn       = aws_iam_role.task_execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64" # build the image with --platform linux/amd64 (README, Deploy)
  }

  container_definitions = jsonencode([
    {
      name                   = "bot"
      image                  = var.image
      essential              = true
      command                = ["bot"]
      user                   = "10001"
      readonlyRootFilesystem = true
      portMappings = [
        { name = "metrics", containerPort = 9464, protocol = "tcp" },
        { name = "health", containerPort = 8080, protocol = "tcp" },
      ]
      environment = local.environment
      secrets     = local.secrets
      healthCheck = {
        command = [
          "CMD", "python3", "-c",
          "import os, urllib.request; port = os.environ.get('HEALTH_PORT') or os.environ.get('METRICS_PORT') or '9464'; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)",
        ]
        interval    = 30
        timeout     = 5
        retries     = 3
        startPeriod = 30
      }
      stopTimeout = 30
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.bot.name
          "awslogs-region"        = var.aws_region
          "awslogs-stream-prefix" = "bot"
        }
      }
    }
  ])

  tags = var.tags
}

resource "aws_ecs_service" "bot" {
  name            = "${var.name}-bot"
  cluster         = aws_ecs_cluster.bugtracker.id
  task_definition = aws_ecs_task_definition.bot.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  # a rolling replacement: the new task is healthy before the old one stops (safe: docs/operate.md)
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.bot.id]
    assign_public_ip = false
  }

  service_registries {
    registry_arn = aws_service_discovery_service.bot.arn
  }

  tags = var.tags
}
