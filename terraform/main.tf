# The bug table. Its keys, attributes and indexes are defined once in storage/schema.py
# (create_table_request); tests/unit/terraform/test_terraform_matches_schema.py fails if this block drifts.
resource "aws_dynamodb_table" "bugtracker" {
  name         = var.table_name
  billing_mode = "PAY_PER_REQUEST" # on-demand: bursty chat/sync traffic, no capacity to plan or autoscale
  hash_key     = "ticketId"
  range_key    = "sourceRecord" # "<sourceSystem>#<recordId>"

  attribute {
    name = "ticketId"
    type = "S"
  }

  attribute {
    name = "sourceRecord"
    type = "S"
  }

  attribute {
    name = "priority"
    type = "S"
  }

  attribute {
    name = "state"
    type = "S"
  }

  attribute {
    name = "sourceSystem"
    type = "S"
  }

  attribute {
    name = "createdAt"
    type = "S"
  }

  # Every index sorts by createdAt (newest first, date ranges as key conditions) and projects the list-row
  # summary attributes (storage.schema.SUMMARY_ATTRIBUTES minus the index's own key), so a page of results
  # renders from the index alone without copying the large free-text attributes three more times.
  global_secondary_index {
    name            = "priority-index"
    hash_key        = "priority"
    range_key       = "createdAt"
    projection_type = "INCLUDE"
    non_key_attributes = [
      "sourceSystem", "recordId", "homeId", "title", "priorityRaw", "state", "stateType", "url", "deleted",
      "updatedAt",
    ]
  }

  global_secondary_index {
    name            = "state-index"
    hash_key        = "state"
    range_key       = "createdAt"
    projection_type = "INCLUDE"
    non_key_attributes = [
      "sourceSystem", "recordId", "homeId", "title", "priority", "priorityRaw", "stateType", "url", "deleted",
      "updatedAt",
    ]
  }

  # Also serves "unlinked Slack reports", counts and "new bugs per day per source" as index queries.
  global_secondary_index {
    name            = "source-index"
    hash_key        = "sourceSystem"
    range_key       = "createdAt"
    projection_type = "INCLUDE"
    non_key_attributes = [
      "recordId", "homeId", "title", "priority", "priorityRaw", "state", "stateType", "url", "deleted",
      "updatedAt",
    ]
  }

  # Links move records (delete + put); continuous backups let a bad link or a bad sync be rolled back.
  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.bugtracker.arn
  }

  deletion_protection_enabled = var.deletion_protection

  tags = var.tags
}
