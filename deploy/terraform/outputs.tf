output "cluster_name" {
  description = "--cluster of every aws ecs command."
  value       = aws_ecs_cluster.bugtracker.name
}

output "service_name" {
  description = "--service of aws ecs update-service."
  value       = aws_ecs_service.bot.name
}

output "task_definition_family" {
  description = "--task-definition of aws ecs run-task (one-off sync / migrate)."
  value       = aws_ecs_task_definition.bot.family
}

output "security_group_id" {
  description = "securityGroups of aws ecs run-task."
  value       = aws_security_group.bot.id
}

output "log_group" {
  description = "The bot's CloudWatch log group."
  value       = aws_cloudwatch_log_group.bot.name
}

output "task_execution_role_arn" {
  description = "The task execution role (image, logs, secrets)."
  value       = aws_iam_role.task_execution.arn
}

output "ssm_parameter_names" {
  description = "Set each with: aws ssm put-parameter --overwrite --type SecureString --name <name> --value file://..."
  value       = { for key, parameter in aws_ssm_parameter.secret : key => parameter.name }
}

output "secretsmanager_secret_arns" {
  description = "Set each with: aws secretsmanager put-secret-value --secret-id <arn> --secret-string file://... (full ARN, with its suffix)"
  value       = { for key, secret in aws_secretsmanager_secret.secret : key => secret.arn }
}

output "prometheus_target" {
  description = "What Prometheus' dns_sd_configs looks up (port 9464)."
  value       = "bot.${var.service_discovery_namespace}"
}
