"""The systems' names and labels, one table for every surface, and the one "not configured" line."""

from __future__ import annotations

import pytest

from bot.config import missing_settings, not_configured
from storage import systems
from storage.model import SOURCES


def test_every_source_has_a_name_and_a_label():
    assert [systems.name(source) for source in SOURCES] == ["Slack", "Zendesk", "Shortcut"]
    assert systems.label("slack") == "Slack report" and systems.label("zendesk") == "Zendesk"
    assert systems.name("jira") == "jira" == systems.label("jira")  # an unknown word is shown as it is


def test_ticket_systems_name_their_items():
    assert systems.TICKET_SYSTEMS == ("shortcut", "zendesk")
    assert [systems.item_kind(system) for system in systems.TICKET_SYSTEMS] == ["story", "ticket"]


@pytest.mark.parametrize(
    ("system", "line"),
    [
        ("shortcut", "Shortcut is not configured here (SHORTCUT_API_TOKEN is not set)"),
        (
            "zendesk",
            "Zendesk is not configured here"
            " (ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and ZENDESK_API_TOKEN are not set)",
        ),
    ],
)
def test_one_line_says_what_is_missing(system, line):
    assert not_configured(system) == line
    assert line.endswith(f"({missing_settings(system)})")
