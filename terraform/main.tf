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
    name = "livePriority"
    type = "S"
  }

  attribute {
    name = "liveState"
    type = "S"
  }

  attribute {
    name = "liveSource"
    type = "S"
  }

  attribute {
    name = "unlinkedSource"
    type = "S"
  }

  attribute {
    name = "createdAt"
    type = "S"
  }

  attribute {
    name = "openImpact"
    type = "S"
  }

  attribute {
    name = "impactRank"
    type = "S"
  }

  # Every index is sparse (storage/schema.py): its key attribute is written only on the records its view
  # lists (live ones; for unlinked-index, live Slack reports under their own id), so a page is one Query
  # whatever lies before it. Each sorts by createdAt and projects the list-row summary attributes
  # (storage.schema.SUMMARY_ATTRIBUTES), so a page renders from the index alone.
  global_secondary_index {
    name            = "live-priority-index"
    hash_key        = "livePriority"
    range_key       = "createdAt"
    projection_type = "INCLUDE"
    non_key_attributes = [
      "sourceSystem", "recordId", "homeId", "title", "priority", "priorityRaw", "state", "stateType", "url",
      "deleted", "updatedAt",
    ]
  }

  global_secondary_index {
    name            = "live-state-index"
    hash_key        = "liveState"
    range_key       = "createdAt"
    projection_type = "INCLUDE"
    non_key_attributes = [
      "sourceSystem", "recordId", "homeId", "title", "priority", "priorityRaw", "state", "stateType", "url",
      "deleted", "updatedAt",
    ]
  }

  global_secondary_index {
    name            = "live-source-index"
    hash_key        = "liveSource"
    range_key       = "createdAt"
    projection_type = "INCLUDE"
    non_key_attributes = [
      "sourceSystem", "recordId", "homeId", "title", "priority", "priorityRaw", "state", "stateType", "url",
      "deleted", "updatedAt",
    ]
  }

  global_secondary_index {
    name            = "unlinked-index"
    hash_key        = "unlinkedSource"
    range_key       = "createdAt"
    projection_type = "INCLUDE"
    non_key_attributes = [
      "sourceSystem", "recordId", "homeId", "title", "priority", "priorityRaw", "state", "stateType", "url",
      "deleted", "updatedAt",
    ]
  }

  # Open bugs ranked by impact: only the `#impact` item of an open bug carries openImpact, so `top` is one
  # Query of this index, highest rank first (storage/impact.py).
  global_secondary_index {
    name               = "open-impact-index"
    hash_key           = "openImpact"
    range_key          = "impactRank"
    projection_type    = "INCLUDE"
    non_key_attributes = ["impactCounts", "impactRoot", "impactRevision"]
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
