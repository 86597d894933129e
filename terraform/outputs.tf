output "table_name" {
  description = "Set DYNAMODB_TABLE to this."
  value       = aws_dynamodb_table.bugtracker.name
}

output "table_arn" {
  description = "ARN of the bug table."
  value       = aws_dynamodb_table.bugtracker.arn
}

output "kms_key_arn" {
  description = "ARN of the customer managed key encrypting the table."
  value       = aws_kms_key.bugtracker.arn
}

output "bot_role_arn" {
  description = "ARN of the role the bot runs as."
  value       = aws_iam_role.bot.arn
}

output "bot_policy_arn" {
  description = "ARN of the bot's table access policy."
  value       = aws_iam_policy.bot_table_access.arn
}
