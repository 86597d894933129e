"""Build the configured pull sources (Zendesk, Shortcut) from the config: the sync's part of bootstrap."""

from __future__ import annotations

import logging

from bot.config import Config
from bot.sync import SyncSource

log = logging.getLogger(__name__)

SOURCE_NAMES = ("zendesk", "shortcut")
_MISSING = {
    "zendesk": "ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and ZENDESK_API_TOKEN are not set",
    "shortcut": "SHORTCUT_API_TOKEN is not set",
}


def build_source(config: Config, name: str) -> SyncSource | None:
    """The source called `name`, or None (with one log line) when its credentials are not configured."""
    budget = config.sync.ratelimit_budget_seconds
    if name == "zendesk" and config.zendesk is not None:
        from adapters.zendesk_pull import ZendeskPull, build_zendesk_client

        client = build_zendesk_client(config.zendesk)
        return ZendeskPull(client, config.zendesk.subdomain, start=config.sync.start, ratelimit_budget=budget)
    if name == "shortcut" and config.shortcut is not None:
        from adapters.shortcut_http import ShortcutHttp
        from adapters.shortcut_pull import ShortcutPull

        http = ShortcutHttp(config.shortcut.api_url, config.shortcut.api_token, ratelimit_budget=budget)
        return ShortcutPull(http, config.shortcut.query, start=config.sync.start)
    log.info("sync %s skipped: %s", name, _MISSING[name])
    return None


def build_sources(config: Config, names: tuple[str, ...] = SOURCE_NAMES) -> list[SyncSource]:
    return [source for name in names if (source := build_source(config, name)) is not None]
