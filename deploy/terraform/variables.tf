variable "aws_region" {
  description = "AWS region of the service; the table's region (terraform/ aws_region). Required: no default."
  type        = string
}

variable "table_name" {
  description = "The table terraform/ created (its output table_name); the bot's DYNAMODB_TABLE. Required."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name must be 3-255 characters of letters, digits, '_', '-' or '.'."
  }
}

variable "task_role_arn" {
  description = "The bot's role: terraform/ output bot_role_arn (table access only)."
  type        = string
}

variable "image" {
  description = "The image, tagged with its version: <account>.dkr.ecr.<region>.amazonaws.com/bugtracker:0.2.0"
  type        = string
}

variable "vpc_id" {
  description = "The VPC of the tasks (see README in this folder: prerequisites)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets with a route out (NAT gateway) to Slack, Zendesk and Shortcut."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) > 0
    error_message = "private_subnet_ids must name at least one subnet."
  }
}

variable "monitoring_security_group_ids" {
  description = "Security groups of Prometheus / Grafana: the only sources allowed to 9464 (metrics, /api) and 8080 (health)."
  type        = list(string)
  default     = []
}

variable "slack_channel_ids" {
  description = "SLACK_CHANNEL_ID: the bug channels this service serves (C0123456789, ...)."
  type        = list(string)

  validation {
    condition     = length(var.slack_channel_ids) > 0 && alltrue([for id in var.slack_channel_ids : can(regex("^[CG][A-Z0-9]{8,}$", id))])
    error_message = "slack_channel_ids must be channel ids like C0123456789."
  }
}

variable "zendesk_subdomain" {
  description = "ZENDESK_SUBDOMAIN (empty: no Zendesk pulls; its secret is still created, unused)."
  type        = string
  default     = ""
}

variable "zendesk_email" {
  description = "ZENDESK_EMAIL: the admin the API token belongs to."
  type        = string
  default     = ""
}

variable "desired_count" {
  description = "Tasks of the service: 1 serves any channel's traffic; 2 keeps answering during a replacement."
  type        = number
  default     = 1
}

variable "cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 512
}

variable "memory" {
  description = "Fargate task memory (MiB)."
  type        = number
  default     = 1024
}

variable "name" {
  description = "Prefix of every name here: cluster, service, roles, log group, secrets (/<name>/...)."
  type        = string
  default     = "bugtracker"
}

variable "service_discovery_namespace" {
  description = "Cloud Map private DNS namespace; Prometheus finds the tasks at bot.<namespace>."
  type        = string
  default     = "bugtracker.local"
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the bot's logs."
  type        = number
  default     = 365
}

variable "secrets_kms_key_arn" {
  description = "A customer managed KMS key for the five secrets (null: the AWS managed keys aws/ssm and aws/secretsmanager)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to every resource created here."
  type        = map(string)
  default = {
    Project = "unified-bugtracker"
  }
}
