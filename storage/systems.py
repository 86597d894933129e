"""The systems a record comes from, named once: what each is called and what one of its records is called.

Every surface (Slack blocks, the console, the CLI, the Home tab, status cards) takes its words from here.
What must be set to use a system is the configuration's (bot/config.py `not_configured`).
"""

from __future__ import annotations

from storage.model import SOURCES

NAMES = {"slack": "Slack", "zendesk": "Zendesk", "shortcut": "Shortcut"}
# How one record of each system is introduced in a line ("Slack report SL-1…", "Zendesk ZD-12").
LABELS = {"slack": "Slack report", "zendesk": "Zendesk", "shortcut": "Shortcut"}
# The ticket systems: where a ticket is created from a report and read by id (in the order offered).
TICKET_SYSTEMS = ("shortcut", "zendesk")
# What one item of a ticket system is called there.
ITEM_KINDS = {"shortcut": "story", "zendesk": "ticket"}

assert set(NAMES) == set(LABELS) == set(SOURCES) and set(TICKET_SYSTEMS) == set(ITEM_KINDS)


def name(system: str) -> str:
    """`Zendesk` for "zendesk"; an unknown system's own word."""
    return NAMES.get(system, system)


def label(system: str) -> str:
    """`Slack report` for "slack", the system's name for the others; an unknown system's own word."""
    return LABELS.get(system, system)


def item_kind(system: str) -> str:
    """`story` for Shortcut, `ticket` for Zendesk (and anything else)."""
    return ITEM_KINDS.get(system, "ticket")
