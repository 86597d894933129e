# No default: a forgotten -var must not move the table to another region. terraform.tfvars holds it
# (terraform.tfvars.example), so plan, apply, import and destroy all read the same value.
variable "aws_region" {
  description = "AWS region for the table, its KMS key and the bot's IAM role. Required."
  type        = string
}

# The default must equal storage.schema.DEFAULT_TABLE_NAME (tests/unit/terraform checks it).
variable "table_name" {
  description = "DynamoDB table name; the bot reads the same name from DYNAMODB_TABLE."
  type        = string
  default     = "BugTracker"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name must be 3-255 characters of letters, digits, '_', '-' or '.'."
  }
}

variable "deletion_protection" {
  description = "Refuse DeleteTable while true (set false only to tear the table down on purpose)."
  type        = bool
  default     = true
}

variable "kms_key_deletion_window_days" {
  description = "Days a scheduled deletion of the table's KMS key can still be cancelled (7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_days >= 7 && var.kms_key_deletion_window_days <= 30
    error_message = "kms_key_deletion_window_days must be between 7 and 30."
  }
}

variable "bot_role_name" {
  description = "Name of the IAM role the bot (and the sync jobs) run as."
  type        = string
  default     = "bugtracker-bot"
}

variable "bot_principal_type" {
  description = "Who may assume the bot role: \"Service\" (e.g. ECS tasks, EC2) or \"AWS\" (account or role ARNs)."
  type        = string
  default     = "Service"

  validation {
    condition     = contains(["Service", "AWS"], var.bot_principal_type)
    error_message = "bot_principal_type must be \"Service\" or \"AWS\"."
  }
}

variable "bot_principal_identifiers" {
  description = "Principals allowed to assume the bot role, e.g. [\"ecs-tasks.amazonaws.com\"] or a role ARN."
  type        = list(string)
  default     = ["ecs-tasks.amazonaws.com"]

  validation {
    # A wildcard would let anyone assume the role; name the compute that runs the bot instead.
    condition     = length(var.bot_principal_identifiers) > 0 && !contains(var.bot_principal_identifiers, "*")
    error_message = "bot_principal_identifiers must name at least one principal and must not contain \"*\"."
  }
}

variable "tags" {
  description = "Tags applied to every resource created here."
  type        = map(string)
  default = {
    Project = "unified-bugtracker"
  }
}
