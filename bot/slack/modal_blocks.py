"""The "Link to ticket…" modal's two interim views (pure builders): "checking…", opened at once so that the
trigger_id is used within Slack's 3 seconds, and the refusal it becomes when the report cannot be linked.
The modal itself is bot/slack/suggestion_blocks.py `link_modal`."""

from __future__ import annotations

from typing import Any

from bot.slack.mrkdwn import plain_text

TEXT_LIMIT = 3000  # a section's text


def _plain(text: str, limit: int = 24) -> dict[str, Any]:
    return plain_text(text, limit)  # one line, control and bidi characters dropped


def checking_modal() -> dict[str, Any]:
    """Shown at once, filled with views.update when the checks are done."""
    return {
        "type": "modal",
        "title": _plain("Link to ticket"),
        "close": _plain("Cancel"),
        "blocks": [{"type": "section", "text": _plain("Checking the report…", TEXT_LIMIT)}],
    }


def refusal_modal(reason: str) -> dict[str, Any]:
    """Why the report cannot be linked here (plain text: the reason may quote what a person typed)."""
    return {
        "type": "modal",
        "title": _plain("Link to ticket"),
        "close": _plain("Close"),
        "blocks": [{"type": "section", "text": _plain(reason, TEXT_LIMIT)}],
    }
