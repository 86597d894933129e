"""manifest.yml declares what the code listens to: the message shortcut and interactivity."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack.suggestion_blocks import SHORTCUT_CALLBACK

MANIFEST = Path(__file__).resolve().parents[4] / "manifest.yml"


def test_the_link_to_ticket_shortcut_is_declared():
    manifest = yaml.safe_load(MANIFEST.read_text())
    shortcuts = manifest["features"]["shortcuts"]
    assert {"name": "Link to ticket…", "type": "message", "callback_id": SHORTCUT_CALLBACK}.items() <= (
        shortcuts[0].items()
    )
    assert len(shortcuts[0]["description"]) <= 150
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True


def test_the_home_tab_and_its_event_are_declared():
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]


def test_the_answer_metadata_can_be_read_back():
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert "metadata.message:read" in manifest["oauth_config"]["scopes"]["bot"]


def test_the_readers_scopes_and_member_events_are_declared():
    """bot/slack/readers.py calls conversations.members, conversations.info and users.info, and listens to
    the member events (bot/slack/listeners/members.py)."""
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert {"channels:read", "groups:read", "users:read", "usergroups:read"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"member_joined_channel", "member_left_channel"} <= set(events)
