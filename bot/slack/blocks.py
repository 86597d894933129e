"""Block Kit builders: pure functions from the services' values to a Reply (blocks + plain text).

The plain text is what the console prints and what Slack shows in notifications; the blocks are what
Slack renders. Nothing here calls Slack or the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.slack import ACCEPTED_TAGS
from bot.slack.intake import IntakeResult
from bot.text import format_counts, format_link, format_page, format_view, short_time
from storage.model import PRIORITIES, SOURCES
from storage.store import Counts, LinkResult, Page, TicketView

MAX_BLOCKS = 50  # Slack's limit per message
SYSTEM_NAMES = {"slack": "Slack", "zendesk": "Zendesk", "shortcut": "Shortcut"}
NEXT_PAGE_ACTION = "bug_next_page"

Block = dict[str, Any]


@dataclass(frozen=True)
class Reply:
    text: str
    blocks: list[Block] = field(default_factory=list)
    public: bool = False  # in_channel instead of ephemeral


def section(markdown: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": markdown[:3000]}}


def context(markdown: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": markdown[:3000]}]}


def _link(url: str | None, label: str) -> str:
    return f"<{url}|{label}>" if url else label


def build_intake_reply(result: IntakeResult) -> Reply:
    """The short answer in a report's thread: where it is stored, the priority understood, how to link."""
    lines = []
    if result.kind == "reply" and result.linked:
        lines.append(f"Linked this report: {result.linked}.")
    elif result.kind in ("message", "edit"):
        where = f"*{result.ticket_id}*"
        if result.ticket_id != result.home_id:
            where += f" (linked from {result.home_id})"
        priority = f"priority *{result.priority}*" if result.priority else "no priority"
        lines.append(f"Stored as {where}, {priority}.")
        if result.ticket_id == result.home_id:
            lines.append(f"To link it: reply `ticketId=ZD-12345` or `/bug link {result.home_id} ZD-12345`.")
    for problem in result.problems:
        lines.append(f"Could not read: {problem}")
    if result.problems:
        lines.append(f"Tags I accept: {ACCEPTED_TAGS}.")
    text = "\n".join(lines)
    return Reply(text=text, blocks=[section(text)] if text else [])


def build_show_blocks(view: TicketView) -> list[Block]:
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": view.ticket_id}}]
    if view.was_linked:
        blocks.append(context(f"{view.requested_id} was linked: {' → '.join(view.alias_chain)}"))
    if view.link_in_progress:
        blocks.append(context("a link into this ticket is still moving records; run the link again"))
    if not view.records:
        blocks.append(section("_no records under this ticket yet_"))
    room = MAX_BLOCKS - len(blocks) - 2
    for record in view.records[:room]:
        system = SYSTEM_NAMES[record.source_system]
        facts = [
            _link(record.url, f"{system} {record.home_id}"),
            f"status *{record.state or '-'}*",
            f"priority *{record.priority or record.priority_raw or '-'}*",
            f"created {short_time(record.created_at)}",
            f"updated {short_time(record.updated_at)}",
        ]
        deleted = " _(deleted upstream)_" if record.deleted else ""
        blocks.append(section(" · ".join(facts) + deleted + f"\n{record.title}"))
    if len(view.records) > room:
        blocks.append(context(f"{len(view.records) - room} more record(s) not shown"))
    if view.audit:
        history = "\n".join(
            f"{short_time(entry.at)} {entry.actor} {entry.action}ed {entry.from_id} → {entry.to_id}"
            for entry in view.audit[-10:]
        )
        blocks.append(context(history))
    return blocks


def build_show_reply(view: TicketView, public: bool = False) -> Reply:
    return Reply(text=format_view(view), blocks=build_show_blocks(view), public=public)


def build_link_reply(action: str, result: LinkResult) -> Reply:
    text = format_link(action, result)
    return Reply(text=text, blocks=[section(text)])


def build_page_blocks(title: str, page: Page, next_command: str | None) -> list[Block]:
    blocks: list[Block] = [section(f"*{title}*")]
    if not page.records:
        blocks.append(section("_no bugs match_"))
    for record in page.records[: MAX_BLOCKS - 3]:
        blocks.append(
            section(
                f"*{record.ticket_id}* · {SYSTEM_NAMES[record.source_system]} · "
                f"{record.priority or '-'} · {record.state or '-'} · {short_time(record.created_at)}\n"
                f"{_link(record.url, record.title or '(no title)')}"
            )
        )
    if page.next_cursor and next_command:
        button = {
            "type": "button",
            "action_id": NEXT_PAGE_ACTION,
            "text": {"type": "plain_text", "text": "Next page"},
            "value": next_command[:2000],
        }
        blocks.append({"type": "actions", "elements": [button]})
    return blocks


def build_page_reply(title: str, page: Page, next_command: str | None) -> Reply:
    text = f"{title}\n{format_page(page)}"
    if page.next_cursor and next_command:  # the console has no button: say what to type
        text = text.rsplit("\nmore: ", 1)[0] + f"\nnext page: {next_command}"
    return Reply(text=text, blocks=build_page_blocks(title, page, next_command))


def build_stats_reply(counts: Counts) -> Reply:
    by_priority = " · ".join(f"{p} {counts.open_by_priority.get(p, 0)}" for p in [*PRIORITIES, "none"])
    by_source = " · ".join(f"{SYSTEM_NAMES[s]} {counts.open_by_source.get(s, 0)}" for s in SOURCES)
    blocks = [
        section(f"*{counts.total} bug records* ({counts.deleted} deleted upstream, not counted)"),
        section(f"*Open by priority:* {by_priority}"),
        section(f"*Open by source:* {by_source}"),
        context(f"Slack reports: {counts.slack_linked} linked, {counts.slack_unlinked} unlinked"),
    ]
    return Reply(text=format_counts(counts), blocks=blocks)


def build_text_reply(text: str) -> Reply:
    return Reply(text=text, blocks=[section(text)])
