# A customer managed key rather than the AWS owned default: the table holds customer-facing ticket data
# (requesters, message text), and a key of our own gives yearly rotation, a key policy we control, CloudTrail
# records of every use, and the ability to revoke access to the data (and its PITR backups) by disabling the
# key. It is also what checkov's CKV_AWS_119 asks of a DynamoDB table.
resource "aws_kms_key" "bugtracker" {
  description             = "Encrypts the ${var.table_name} DynamoDB table"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_days
  policy                  = data.aws_iam_policy_document.bugtracker_key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "bugtracker" {
  name          = "alias/${lower(var.table_name)}-table"
  target_key_id = aws_kms_key.bugtracker.key_id
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# The default key policy: the account administers the key, and IAM policies (like the bot's in iam.tf) decide
# who may use it. No wildcard principal; the bot gets its narrow, DynamoDB-only use through its own policy.
data "aws_iam_policy_document" "bugtracker_key" {
  # These three checks read this document as an identity policy. It is a KEY policy: its "*" resource is
  # this one key, and account-root administration is AWS's default key policy, which hands decisions about
  # use to IAM (the bot's narrow kms statement in iam.tf). Without it the key would be unmanageable.
  #checkov:skip=CKV_AWS_109:Key policy; "*" is this key and the principal is this account's root only
  #checkov:skip=CKV_AWS_111:Key policy; "*" is this key and the principal is this account's root only
  #checkov:skip=CKV_AWS_356:Key policy; "*" is this key and the principal is this account's root only
  # In a key policy the resource "*" means this key only.
  statement {
    sid       = "AccountAdministersKeyAndDelegatesToIam"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}
