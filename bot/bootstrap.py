"""The one place that builds things: config -> clients -> store. Every argument can be overridden (tests)."""

from __future__ import annotations

import logging
from typing import Any

from bot.config import Config
from storage.store import BugStore

log = logging.getLogger(__name__)


def build_dynamodb_client(config: Config) -> Any:
    """A boto3 DynamoDB client with botocore's standard retry mode.

    The endpoint comes from boto3's own settings: AWS_ENDPOINT_URL_DYNAMODB points it at a local endpoint
    (moto, DynamoDB Local) with no code change.
    """
    import boto3
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import BotoCoreError

    from storage.dynamodb_items import map_botocore_error

    boto_config = BotoConfig(
        retries={"mode": "standard", "total_max_attempts": config.store.aws_max_attempts}
    )
    try:
        return boto3.client("dynamodb", region_name=config.store.aws_region, config=boto_config)
    except BotoCoreError as exc:
        raise map_botocore_error(exc) from exc


def build_store(config: Config, dynamodb_client: Any | None = None) -> BugStore:
    if config.store.dynamodb_table:
        from storage.dynamodb import DynamoDBStore

        client = dynamodb_client or build_dynamodb_client(config)
        store: BugStore = DynamoDBStore(client, config.store.dynamodb_table)
        if config.store.dynamodb_endpoint:
            store.description += f" at {config.store.dynamodb_endpoint}"
    else:
        from storage.sqlite import SqliteStore

        store = SqliteStore(config.store.sqlite_path)
    log.info("store: %s", store.description)
    return store
