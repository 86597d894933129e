"""Block Kit builders: pure functions from the services' values to a Reply (blocks + plain text).

The plain text is what the console prints and what Slack shows in notifications; the blocks are what
Slack renders. Nothing here calls Slack or the store. Every outside string (titles, states, raw priorities,
actors, problems quoting what someone typed) goes into mrkdwn through bot/slack/mrkdwn.py's `inert()` (one
line, no ping, no link, no formatting) or into a plain_text object; the bot's own lines through `escape()`;
links are made only around the record URLs the adapters built. `Reply.payload()` is what a transport posts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.slack_message import ACCEPTED_TAGS
from bot.slack.intake import IntakeResult
from bot.slack.mrkdwn import (
    MAX_BLOCKS,
    SECTION_LIMIT,
    Block,
    bold,
    button,
    context,
    escape,
    fit_blocks,
    header,
    inert,
    link,
    message_text,
    plain_text,
    section,
    truncate_plain,
)
from bot.text_renderers import deleted_note, format_counts, format_link, format_page, format_view, short_time
from storage import systems
from storage.model import PRIORITIES, SOURCES
from storage.values import Counts, LinkResult, Page, TicketView

__all__ = ["MAX_BLOCKS", "Block", "Reply", "section", "context"]

NEXT_PAGE_ACTION = "bug_next_page"
MAX_PROBLEMS_SHOWN = (
    5  # a thread reply names at most this many problems (adapters.slack_message keeps 5 a message)
)
PROBLEM_LIMIT = 300  # characters of one problem line
TITLE_SHOWN = 300  # characters of a record's title in a section


@dataclass(frozen=True)
class Reply:
    text: str  # plain text (may carry *bold* / `code` marks, never markup): the console prints it
    blocks: list[Block] = field(default_factory=list)
    public: bool = False  # in_channel instead of ephemeral

    def payload(self) -> dict[str, Any]:
        """What a transport sends to Slack: the text escaped and bounded, at most 50 blocks."""
        return {"text": message_text(self.text), "blocks": fit_blocks(self.blocks)}


def build_intake_reply(result: IntakeResult, can_reply: bool = True) -> Reply:
    """The short answer in a report's thread: where it is stored, the priority understood, how to link.
    `can_reply`: the reader can reply in a thread (Slack; the console cannot: only `/bug link` is named)."""
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
            by_reply = "reply `ticketId=ZD-12345` or " if can_reply else ""
            lines.append(f"To link it: {by_reply}`/bug link {result.home_id} ZD-12345`.")
    marked = [escape(line) for line in lines]  # the bot's own lines keep their marks
    notes = [truncate_plain(note, PROBLEM_LIMIT) for note in result.notes[:MAX_PROBLEMS_SHOWN]]
    lines += notes
    marked += [inert(note) for note in notes]  # a note may quote an upstream's error: outside text
    for problem in result.problems[:MAX_PROBLEMS_SHOWN]:
        lead = "" if problem.startswith("…") else "Could not read: "
        quoted = truncate_plain(problem, PROBLEM_LIMIT)  # quotes what was typed: outside text
        lines.append(lead + quoted)
        marked.append(escape(lead) + inert(quoted))
    tail = []
    if len(result.problems) > MAX_PROBLEMS_SHOWN:
        tail.append(f"…and {len(result.problems) - MAX_PROBLEMS_SHOWN} more problem(s) with the tags.")
    if result.problems:
        tail.append(f"Tags I accept: {ACCEPTED_TAGS}.")
    lines += tail
    marked += [escape(line) for line in tail]
    text = "\n".join(lines)
    return Reply(text=text, blocks=[section("\n".join(marked))] if text else [])


def _record_line(record: Any) -> str:
    title = truncate_plain(record.title or "", TITLE_SHOWN)
    return inert(title)


def build_show_blocks(view: TicketView) -> list[Block]:
    blocks: list[Block] = [header(view.ticket_id)]
    if view.was_linked:
        blocks.append(context(escape(f"{view.requested_id} was linked: {' → '.join(view.alias_chain)}")))
    if view.link_in_progress:
        blocks.append(context("a link or unlink is still moving records here; run it again to finish it"))
    if view.hidden_deleted:
        how = f"{SLACK_SHOW_DELETED} (`/bug show {view.requested_id} deleted`)"
        blocks.append(section(f"_{deleted_note(view.hidden_deleted, how)}_"))
    elif not view.records:
        blocks.append(section("_no records under this ticket yet_"))
    room = MAX_BLOCKS - len(blocks) - 2
    for record in view.records[:room]:
        system = systems.name(record.source_system)
        priority = truncate_plain(record.priority or record.priority_raw or "-", 60)
        facts = [
            link(record.url, f"{system} {record.home_id}"),
            f"status {bold(truncate_plain(record.state or '-', 100))}",
            f"priority {bold(priority)}",
            f"created {short_time(record.created_at)}",
            f"updated {short_time(record.updated_at)}",
        ]
        deleted = " _(deleted upstream)_" if record.deleted else ""
        blocks.append(section(" · ".join(facts) + deleted + f"\n{_record_line(record)}"))
    if len(view.records) > room:
        blocks.append(context(f"{len(view.records) - room} more record(s) not shown"))
    if view.audit:
        history = "\n".join(
            f"{short_time(entry.at)} {inert(entry.actor)} {entry.action}ed {inert(entry.from_id)}"
            f" → {inert(entry.to_id)}"
            for entry in view.audit[-10:]
        )
        blocks.append(context(history))
    return blocks


SLACK_SHOW_DELETED = "add `deleted`"


def build_show_reply(
    view: TicketView, public: bool = False, unreadable: int = 0, note: str | None = None
) -> Reply:
    """`unreadable`: records left out because the person may not read them; `note`: a line said first."""
    text, shown = format_view(view, SLACK_SHOW_DELETED), build_show_blocks(view)
    if unreadable:
        line = f"{unreadable} Slack report(s) from a channel you are not in are not shown."
        text, shown = f"{text}\n{line}", [*shown, context(escape(line))]
    if note:
        text, shown = f"{note}\n{text}", [section(escape(note)), *shown]
    return Reply(text=text, blocks=shown, public=public)


def build_link_reply(action: str, result: LinkResult) -> Reply:
    text = format_link(action, result)  # names what was moved: plain text, no marks of the bot's
    return Reply(text=text, blocks=[{"type": "section", "text": plain_text(text, SECTION_LIMIT)}])


def build_page_blocks(title: str, page: Page, next_command: str | None) -> list[Block]:
    blocks: list[Block] = [section(bold(title))]
    if not page.records:
        blocks.append(section("_no bugs match_"))
    for record in page.records[: MAX_BLOCKS - 3]:
        facts = " · ".join(
            [
                bold(record.ticket_id),
                systems.name(record.source_system),
                inert(record.priority or "-"),
                inert(truncate_plain(record.state or "-", 100)),
                short_time(record.created_at),
            ]
        )
        label = truncate_plain(record.title or "(no title)", TITLE_SHOWN)
        blocks.append(section(f"{facts}\n{link(record.url, label)}"))
    if page.next_cursor and next_command:
        blocks.append({"type": "actions", "elements": [button(NEXT_PAGE_ACTION, "Next page", next_command)]})
    return blocks


def build_page_reply(title: str, page: Page, next_command: str | None) -> Reply:
    text = f"{title}\n{format_page(page)}"
    if page.next_cursor and next_command:  # the console has no button: say what to type
        text = text.rsplit("\nmore: ", 1)[0] + f"\nnext page: {next_command}"
    return Reply(text=text, blocks=build_page_blocks(title, page, next_command))


def build_stats_reply(counts: Counts) -> Reply:
    by_priority = " · ".join(f"{p} {counts.open_by_priority.get(p, 0)}" for p in [*PRIORITIES, "none"])
    by_source = " · ".join(f"{systems.name(s)} {counts.open_by_source.get(s, 0)}" for s in SOURCES)
    blocks = [
        section(f"*{counts.total} bug records* ({counts.deleted} deleted upstream, not counted)"),
        section(f"*Open by priority:* {by_priority}"),
        section(f"*Open by source:* {by_source}"),
        context(f"Slack reports: {counts.slack_linked} linked, {counts.slack_unlinked} unlinked"),
    ]
    return Reply(text=format_counts(counts), blocks=blocks)


def build_text_reply(text: str) -> Reply:
    """The bot's own text (usage, a refusal) as one escaped section; its marks (`code`) stay marks."""
    return Reply(text=text, blocks=[section(escape(text))])


def build_error_reply(error: str, usage: str | None = None) -> Reply:
    """An error that may quote what someone typed (outside text: inert, on one line), then the usage."""
    text = f"{error}\n{usage}" if usage else error
    marked = inert(error) + (f"\n{escape(usage)}" if usage else "")
    return Reply(text=text, blocks=[section(marked)])
