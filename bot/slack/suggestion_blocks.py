"""Block Kit for suggested links: the suggestions under a report's thread reply, what the reply becomes once
someone picks one, and the "Link to ticket…" modal. Pure functions; outside text (titles) is escaped and
bounded to Slack's limits; plain_text where a person's words are shown as they are."""

from __future__ import annotations

import json
from typing import Any

from bot.suggest.service import Suggestion

Block = dict[str, Any]

LINK_ACTION_PREFIX = "suggest_link_"  # + position: action ids are unique within a message
NONE_ACTION = "suggest_none"
BLOCK_PREFIX = "suggest"  # every block this module adds to a reply; removed when a choice is made
SHORTCUT_CALLBACK = "link_to_ticket"  # manifest.yml: the message shortcut "Link to ticket…"
MODAL_CALLBACK = "link_ticket_modal"
CHOICE_BLOCK, CHOICE_ACTION = "suggested", "choice"
TICKET_BLOCK, TICKET_ACTION = "ticket", "ticket_id"
SYSTEM_NAMES = {"slack": "Slack report", "zendesk": "Zendesk", "shortcut": "Shortcut"}
TITLE_SHOWN = 150
PLAIN_LIMIT = 75  # button texts and option texts


def escape(text: str) -> str:
    """mrkdwn: `&`, `<`, `>` as entities, so outside text can neither ping nor make a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str, limit: int = PLAIN_LIMIT) -> Block:
    return {"type": "plain_text", "text": _clip(text, limit) or " ", "emoji": False}


def _describe(suggestion: Suggestion) -> str:
    title = escape(_clip(suggestion.title or "(no title)", TITLE_SHOWN))
    shown = f"<{suggestion.url}|{title}>" if suggestion.url else title
    facts = [SYSTEM_NAMES.get(suggestion.source_system, suggestion.source_system)]
    if suggestion.state:
        facts.append(escape(_clip(suggestion.state, 40)))
    if suggestion.record_id != suggestion.ticket_id:
        facts.append(f"{suggestion.record_id}, linked to {suggestion.ticket_id}")
    return f"*{suggestion.ticket_id}* {shown}\n_{' · '.join(facts)}_"


def suggestion_blocks(report_id: str, suggestions: list[Suggestion]) -> list[Block]:
    """Up to 3 suggestions, each with its "Link to …" button, and "None of these"."""
    if not suggestions:
        return []
    blocks: list[Block] = [
        {
            "type": "context",
            "block_id": f"{BLOCK_PREFIX}-head",
            "elements": [{"type": "mrkdwn", "text": "*Possibly the same bug as:*"}],
        }
    ]
    for position, suggestion in enumerate(suggestions[:3]):
        blocks.append(
            {
                "type": "section",
                "block_id": f"{BLOCK_PREFIX}-{position}",
                "text": {"type": "mrkdwn", "text": _describe(suggestion)[:3000]},
                "accessory": {
                    "type": "button",
                    "action_id": f"{LINK_ACTION_PREFIX}{position}",
                    "text": _plain(f"Link to {suggestion.ticket_id}"),
                    "value": f"{report_id} {suggestion.ticket_id}",
                },
            }
        )
    blocks.append(
        {
            "type": "actions",
            "block_id": f"{BLOCK_PREFIX}-actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": NONE_ACTION,
                    "text": _plain("None of these"),
                    "value": report_id,
                }
            ],
        }
    )
    return blocks


def suggestion_text(report_id: str, suggestions: list[Suggestion]) -> str:
    """The same suggestions as plain text, with the command to type (the console; notifications)."""
    if not suggestions:
        return ""
    lines = ["Possibly the same bug as:"]
    for suggestion in suggestions[:3]:
        system = SYSTEM_NAMES.get(suggestion.source_system, suggestion.source_system)
        state = f", {suggestion.state}" if suggestion.state else ""
        lines.append(
            f"  {suggestion.ticket_id} {_clip(suggestion.title, TITLE_SHOWN)} ({system}{state})"
            f"  ->  /bug link {report_id} {suggestion.ticket_id}"
        )
    return "\n".join(lines)


def without_suggestions(blocks: list[Block], note: str) -> list[Block]:
    """A reply's blocks with the suggestions taken out and one line saying what happened instead."""
    kept = [block for block in blocks or [] if not str(block.get("block_id", "")).startswith(BLOCK_PREFIX)]
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": note[:3000]}]}][:50]


def linked_note(user: str, report_id: str, target: str) -> str:
    return f"<@{user}> linked {report_id} to *{target}*."


def dismissed_note(user: str) -> str:
    return f"<@{user}> marked the suggestions as none of these."


def link_modal(
    report_id: str, title: str, suggestions: list[Suggestion], channel: str, reply_ts: str | None = None
) -> dict[str, Any]:
    """The "Link to ticket…" modal: the top suggestions as choices and a free ticket id, checked on submit."""
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*{report_id}*\n{escape(_clip(title or '(no text)', TITLE_SHOWN))}",
            },
        }
    ]
    if suggestions:
        options = [
            {
                "text": _plain(f"{s.ticket_id} · {s.title or '(no title)'}"),
                "value": s.ticket_id,
            }
            for s in suggestions[:10]
        ]
        blocks.append(
            {
                "type": "input",
                "block_id": CHOICE_BLOCK,
                "optional": True,
                "label": _plain("Suggested tickets"),
                "element": {"type": "radio_buttons", "action_id": CHOICE_ACTION, "options": options},
            }
        )
    blocks.append(
        {
            "type": "input",
            "block_id": TICKET_BLOCK,
            "optional": bool(suggestions),
            "label": _plain("Or a ticket id" if suggestions else "Ticket id"),
            "hint": _plain("ZD-12345 (Zendesk), SC-123 (Shortcut) or SL-<ts> (another report)", 150),
            "element": {
                "type": "plain_text_input",
                "action_id": TICKET_ACTION,
                "max_length": 40,
                "placeholder": _plain("ZD-12345", 150),
            },
        }
    )
    metadata = {"report": report_id, "channel": channel, "reply_ts": reply_ts}
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "title": _plain("Link to ticket", 24),
        "submit": _plain("Link", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": json.dumps(metadata)[:3000],
        "blocks": blocks,
    }


def modal_choice(view: dict[str, Any]) -> tuple[str | None, str | None]:
    """(typed ticket id, picked suggestion) from a submitted modal's state."""
    values = (view.get("state") or {}).get("values") or {}
    typed = ((values.get(TICKET_BLOCK) or {}).get(TICKET_ACTION) or {}).get("value")
    picked = ((values.get(CHOICE_BLOCK) or {}).get(CHOICE_ACTION) or {}).get("selected_option") or {}
    return (typed or "").strip() or None, picked.get("value")
