"""Block Kit for suggested links: the suggestions under a report's thread reply, what the reply becomes once
someone picks one, and the "Link to ticket…" modal. Pure functions; every outside string (titles, states)
goes through bot/slack/mrkdwn.py (inert, bounded to Slack's limits, links only around our record URLs)."""

from __future__ import annotations

import json
from typing import Any

from bot.slack.create_blocks import OPEN_ACTION as CREATE_OPEN_ACTION
from bot.slack.mrkdwn import (
    FALLBACK_TEXT_LIMIT,
    MAX_BLOCKS,
    Block,
    bold,
    button,
    context,
    escape,
    fit_blocks,
    inert,
    link,
    mention,
    mrkdwn_text,
    plain_text,
    printable,
    truncate,
    truncate_plain,
)
from bot.suggest.service import Suggestion
from storage import systems

LINK_ACTION_PREFIX = "suggest_link_"  # + position: action ids are unique within a message
NONE_ACTION = "suggest_none"
BLOCK_PREFIX = "suggest"  # every block this module adds to a reply; removed when a choice is made
SHORTCUT_CALLBACK = "link_to_ticket"  # manifest.yml: the message shortcut "Link to ticket…"
MODAL_CALLBACK = "link_ticket_modal"
CHOICE_BLOCK, CHOICE_ACTION = "suggested", "choice"
TICKET_BLOCK, TICKET_ACTION = "ticket", "ticket_id"
TITLE_SHOWN = 150
TEXT_HEAD = "Possibly the same bug as:"
PLAIN_LIMIT = 75  # button texts and option texts


def _plain(text: str, limit: int = PLAIN_LIMIT) -> Block:
    return plain_text(text, limit)


def _describe(suggestion: Suggestion) -> str:
    title = truncate_plain(suggestion.title or "(no title)", TITLE_SHOWN)
    facts = [systems.label(suggestion.source_system)]
    if suggestion.state:
        facts.append(truncate_plain(suggestion.state, 40))
    if suggestion.record_id != suggestion.ticket_id:
        facts.append(f"{suggestion.record_id}, linked to {suggestion.ticket_id}")
    return f"{bold(suggestion.ticket_id)} {link(suggestion.url, title)}\n_{inert(' · '.join(facts))}_"


def suggestion_blocks(report_id: str, suggestions: list[Suggestion]) -> list[Block]:
    """Up to 3 suggestions, each with its "Link to …" button, and "None of these"."""
    if not suggestions:
        return []
    blocks: list[Block] = [{**context(bold(TEXT_HEAD)), "block_id": f"{BLOCK_PREFIX}-head"}]
    for position, suggestion in enumerate(suggestions[:3]):
        blocks.append(
            {
                "type": "section",
                "block_id": f"{BLOCK_PREFIX}-{position}",
                "text": mrkdwn_text(_describe(suggestion)),
                "accessory": button(
                    f"{LINK_ACTION_PREFIX}{position}",
                    f"Link to {suggestion.ticket_id}",
                    f"{report_id} {suggestion.ticket_id}",
                ),
            }
        )
    blocks.append(
        {
            "type": "actions",
            "block_id": f"{BLOCK_PREFIX}-actions",
            "elements": [button(NONE_ACTION, "None of these", report_id)],
        }
    )
    return blocks


def suggestion_text(report_id: str, suggestions: list[Suggestion]) -> str:
    """The same suggestions as plain text, with the command to type (the console; notifications)."""
    if not suggestions:
        return ""
    lines = [TEXT_HEAD]
    for suggestion in suggestions[:3]:
        system = systems.label(suggestion.source_system)
        state = f", {suggestion.state}" if suggestion.state else ""
        lines.append(
            f"  {suggestion.ticket_id} {truncate_plain(printable(suggestion.title), TITLE_SHOWN)}"
            f" ({system}{state})"
            f"  ->  /bug link {report_id} {suggestion.ticket_id}"
        )
    return "\n".join(lines)


def without_suggestions(blocks: list[Block], note: str) -> list[Block]:
    """A reply's blocks with the suggestions taken out and one line saying what happened instead. The note
    always fits Slack's 50 blocks: a message already that long keeps 48 of its blocks and says how many
    more it had, then the note."""
    kept = [block for block in blocks or [] if not str(block.get("block_id", "")).startswith(BLOCK_PREFIX)]
    return [*fit_blocks(kept, MAX_BLOCKS - 1), context(note)]


def text_without_suggestions(text: str, note: str) -> str:
    """A reply's plain text with the suggestion lines taken out and the note added."""
    kept = (text or "").split(f"\n{TEXT_HEAD}")[0]
    return truncate(f"{kept}\n{note}", FALLBACK_TEXT_LIMIT)  # never cuts an entity or a <…> span


def _mention(user: str) -> str:
    return mention(user)


def linked_note(user: str, report_id: str, target: str) -> str:
    """mrkdwn: who linked the report to what."""
    return f"{_mention(user)} linked {escape(report_id)} to {bold(target)}."


def dismissed_note(user: str) -> str:
    return f"{_mention(user)} marked the suggestions as none of these."


def link_modal(
    report_id: str,
    title: str,
    suggestions: list[Suggestion],
    channel: str,
    reply_ts: str | None = None,
    can_create: bool = False,
) -> dict[str, Any]:
    """The "Link to ticket…" modal: the top suggestions as choices and a free ticket id, checked on submit;
    `can_create`: a button turning it into the form that creates a new ticket instead."""
    blocks: list[Block] = [
        {
            "type": "section",
            "text": mrkdwn_text(
                f"{bold(report_id)}\n{inert(truncate_plain(title or '(no text)', TITLE_SHOWN))}"
            ),
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
    if can_create:
        blocks.append(
            {
                "type": "actions",
                "block_id": "create_instead",
                "elements": [button(CREATE_OPEN_ACTION, "Create a new ticket instead…", report_id)],
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
