# The five secrets, created empty of any real value: Terraform state must not hold them. Set each value once
# with the AWS CLI (README in this folder), after the first apply and before the service starts tasks;
# ignore_changes keeps a later apply from resetting it.
locals {
  ssm_secrets     = toset(["slack-bot-token", "slack-app-token", "metrics-api-token"])
  manager_secrets = toset(["zendesk-api-token", "shortcut-api-token"])
}

resource "aws_ssm_parameter" "secret" {
  #checkov:skip=CKV_AWS_337:encrypted with aws/ssm unless secrets_kms_key_arn names a customer managed key
  for_each    = local.ssm_secrets
  name        = "/${var.name}/${each.key}"
  description = "${upper(replace(each.key, "-", "_"))} of the ${var.name} bot (value set outside Terraform)"
  type        = "SecureString"
  key_id      = var.secrets_kms_key_arn
  value       = "set-me" # replaced with `aws ssm put-parameter --overwrite`
  tags        = var.tags

  lifecycle {
    ignore_changes = [value]
  }
}

resource "aws_secretsmanager_secret" "secret" {
  #checkov:skip=CKV2_AWS_57:an API token of Zendesk / Shortcut is rotated by hand in their admin UI
  #checkov:skip=CKV_AWS_149:encrypted with aws/secretsmanager unless secrets_kms_key_arn names a customer managed key
  for_each    = local.manager_secrets
  name        = "${var.name}/${each.key}"
  description = "${upper(replace(each.key, "-", "_"))} of the ${var.name} bot (value set outside Terraform)"
  kms_key_id  = var.secrets_kms_key_arn
  tags        = var.tags
}
