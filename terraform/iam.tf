# The role the bot and the sync jobs run as, and a policy granting only what storage/dynamodb.py calls.
# The list of DynamoDB actions is declared in storage.schema.REQUIRED_IAM_ACTIONS; a unit test fails if the
# statements below grant more or less than that.
data "aws_iam_policy_document" "bot_assume_role" {
  statement {
    sid     = "BotComputeAssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = var.bot_principal_type
      identifiers = var.bot_principal_identifiers
    }
  }
}

resource "aws_iam_role" "bot" {
  name               = var.bot_role_name
  description        = "Runs the BugTracker bot and sync jobs against the ${var.table_name} table"
  assume_role_policy = data.aws_iam_policy_document.bot_assume_role.json
  tags               = var.tags
}

data "aws_iam_policy_document" "bot_table_access" {
  # Item reads and writes, on the base table only. There is no dynamodb:TransactWriteItems action: each
  # Put / Update / Delete / ConditionCheck inside a transaction is authorised by PutItem / UpdateItem /
  # DeleteItem / ConditionCheckItem on its table ("Using IAM with DynamoDB transactions", DynamoDB developer
  # guide). DescribeTable lets the store check the table at startup. Scan is the daily recount's full pass
  # and `bugtracker migrate`'s backfill (docs/scale.md), never a read path. CreateTable is deliberately absent:
  # `bugtracker init` creates the table only on a local endpoint; in AWS this Terraform owns the table.
  statement {
    sid    = "BugTrackerTableItems"
    effect = "Allow"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DeleteItem",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:UpdateItem",
    ]
    resources = [aws_dynamodb_table.bugtracker.arn]
  }

  # The indexes are only ever queried (list by priority / state / source, unlinked Slack reports).
  statement {
    sid       = "BugTrackerIndexQueries"
    effect    = "Allow"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.bugtracker.arn}/index/*"]
  }

  # DynamoDB uses the table's key on the caller's behalf; kms:ViaService keeps the role from using the key
  # for anything but DynamoDB requests in this region.
  statement {
    sid       = "BugTrackerTableKeyViaDynamoDB"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.bugtracker.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${var.aws_region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "bot_table_access" {
  name        = "${var.bot_role_name}-table-access"
  description = "Least-privilege access to the ${var.table_name} table, its indexes and its KMS key"
  policy      = data.aws_iam_policy_document.bot_table_access.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "bot_table_access" {
  role       = aws_iam_role.bot.name
  policy_arn = aws_iam_policy.bot_table_access.arn
}
