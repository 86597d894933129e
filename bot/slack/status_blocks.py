"""Block Kit for a report's status card (the bot's first thread reply, kept current with chat.update) and
the short notice a change of state type posts. Pure functions. Outside strings (titles, the first answer's
note, state names in a notice) go in plain_text objects; those inside the bot's mrkdwn lines are inert."""

from __future__ import annotations

from bot.slack.create_blocks import create_button_block
from bot.slack.mrkdwn import (
    SECTION_LIMIT,
    Block,
    bold,
    context,
    escape,
    fit_blocks,
    inert,
    link,
    mention,
    plain_text,
    section,
    truncate_plain,
)
from bot.slack.status_board import Announcement, Transition
from bot.text_renderers import (
    format_status_line,
    format_transition,
    is_merged,
    merged_into,
    merged_text,
    short_time,
)
from bot.top import waiting_line
from storage import impact, systems
from storage.model import BugRecord

STATE_SHOWN = 100  # characters of a state name
TITLE_SHOWN = 200  # characters of a record's title
RECORDS_SHOWN = 20  # records listed on one card (a ticket rarely has more); two blocks each, within 50


def _plain_context(text: str) -> Block:
    return {"type": "context", "elements": [plain_text(text, SECTION_LIMIT)]}


def _record_blocks(record: BugRecord) -> list[Block]:
    """The record's facts (the bot's mrkdwn, with a link), then its title as plain text: a title cannot
    pass for a line of the card, whatever marks or line breaks it holds."""
    r = record
    label = f"{systems.label(r.source_system)} {r.home_id}"
    if r.source_system == "slack":
        state = "reported"
    elif is_merged(r):
        state = merged_text(merged_into(r))
    else:
        state = truncate_plain(r.state or "-", STATE_SHOWN)
        if r.state_type and r.state_type != r.state:
            state += f" ({r.state_type})"
    facts = [link(r.url, label), f"state {bold(state)}", f"priority {bold(r.priority or '-')}"]
    deleted = " _(deleted upstream)_" if r.deleted else ""
    title = truncate_plain(r.title or "(no title)", TITLE_SHOWN)
    return [section(" · ".join(facts) + deleted), _plain_context(title)]


def waiting(announcement: Announcement) -> str:
    """ "3 reports · 5 customers waiting", counted over the records the card shows (those its channel may
    read); "" for a report alone under its own id."""
    view = announcement.view
    if not announcement.linked or view.ticket_id.startswith("SL-") and len(view.records) < 2:
        return ""
    return waiting_line(impact.of_records(view.ticket_id, view.records).visible())


def card_text(announcement: Announcement) -> str:
    """The card as plain text: the notification fallback, and what the console prints."""
    view = announcement.view
    head = f"Status of {view.ticket_id}" if announcement.linked else "Not linked to a ticket any more"
    line = waiting(announcement)
    head += f" ({line})" if line else ""
    return "\n".join([head, *(format_status_line(r) for r in view.records[:RECORDS_SHOWN])])


def build_status_card(announcement: Announcement, create_button: bool = False) -> list[Block]:
    """`create_button`: a card whose report lives under no ticket (unlinked, or under another report)
    offers "Create…" (a Shortcut story / Zendesk ticket made from that report)."""
    view, note = announcement.view, announcement.card.get("note")
    blocks: list[Block] = []
    if note:
        blocks.append(_plain_context(note))
    offer = (
        [create_button_block(view.ticket_id)] if create_button and view.ticket_id.startswith("SL-") else []
    )
    if not announcement.linked:
        blocks.append(section(f"{bold(view.ticket_id)} is not linked to a ticket any more."))
        return blocks + offer
    line = waiting(announcement)
    blocks.append(section(f"*Status of {escape(view.ticket_id)}*" + (f" · {escape(line)}" if line else "")))
    for record in view.records[:RECORDS_SHOWN]:
        blocks += _record_blocks(record)
    if len(view.records) > RECORDS_SHOWN:
        blocks.append(
            context(f"{len(view.records) - RECORDS_SHOWN} more record(s): `/bug show {view.ticket_id}`")
        )
    latest = max((r.updated_at for r in view.records if r.updated_at), default=None)
    footer = f"kept current by the bot · last change {short_time(latest)} UTC"
    if view.audit:
        entry = view.audit[-1]
        who = mention(entry.actor)
        footer += f" · {who} {entry.action}ed {inert(entry.from_id)} to {bold(entry.to_id)}"
    blocks.append(context(footer))
    return blocks + offer


def _notice(t: Transition) -> str:
    return format_transition(t.ticket_id, t.system, t.state, t.now, t.merged_into)


def transition_text(announcement: Announcement) -> str:
    return "\n".join(_notice(t) for t in announcement.transitions)


def build_transition_blocks(announcement: Announcement) -> list[Block]:
    # a notice quotes upstream state names: the whole notice is plain text (one block per change)
    return fit_blocks(
        [
            {
                "type": "section",
                "text": plain_text(_notice(t), SECTION_LIMIT),
            }
            for t in announcement.transitions
        ]
    )
