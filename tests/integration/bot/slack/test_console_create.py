"""`/bug create` in the console: the same verb as Slack's button, answered as the thread answer reads."""

from __future__ import annotations

import pytest

from adapters.shortcut_create import ShortcutCreate
from adapters.shortcut_http import ShortcutHttp
from bot.slack.console import Console
from bot.slack.intake import Intake
from bot.tickets.upstreams import Upstreams
from tests.fakes.shortcut import FakeShortcut


@pytest.fixture
def console(sqlite_store):
    with FakeShortcut() as shortcut:
        http = ShortcutHttp(shortcut.api_url, shortcut.token, backoff_factor=0.01, timeout=10)
        yield (
            Console(
                sqlite_store,
                Intake(sqlite_store),
                user="console:ann",
                upstreams=Upstreams(shortcut=ShortcutCreate(http)),
            ),
            shortcut,
        )


def test_create_from_the_console(console):
    console, shortcut = console
    console.handle("Export to CSV drops the last row priority=high")
    (report,) = console.store.unlinked_slack().records
    answer = console.handle(f"/bug create shortcut {report.home_id}")
    assert answer == (
        "Created SC-9001 in Shortcut: https://app.shortcut.com/acme/story/9001"
        " — this report now lives under SC-9001"
    )
    assert shortcut.stories[9001]["name"] == "Export to CSV drops the last row"
    assert console.store.get_record("slack", report.record_id).ticket_id == "SC-9001"
    refused = console.handle(f"/bug create zendesk {report.home_id}")
    assert refused == (
        "Zendesk is not configured here (ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and ZENDESK_API_TOKEN are not set)"
    )
