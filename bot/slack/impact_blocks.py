"""Block Kit builders for impact: `/bug top`, App Home's "Hurts most", the status card's waiting line.

Pure functions of bot/top.py's values; titles and states are outside text (inert), links only around the
record URLs the adapters built.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack.blocks import Reply
from bot.slack.mrkdwn import Block, context, inert, link, section
from bot.text_renderers import printable
from bot.top import TopBug, age

TITLE_SHOWN = 150  # characters of a bug's title in a row


def bug_line(number: int, bug: TopBug) -> str:
    """ "1. *SC-12* Checkout fails — 3 reports · 2 tickets · 4 people · High · In Progress · 2d"."""
    label = link(bug.url, bug.ticket_id) if bug.url else f"*{bug.ticket_id}*"
    title = f" {inert(bug.title[:TITLE_SHOWN])}" if bug.title else ""
    facts = [bug.summary, bug.numbers.priority or "", inert(bug.state) if bug.state else "", age(bug.numbers)]
    return f"{number}. {label}{title} — " + " · ".join(fact for fact in facts if fact)


def build_top_blocks(bugs: Sequence[TopBug], title: str = "Open bugs by impact") -> list[Block]:
    if not bugs:
        return [section(f"*{title}*"), context("No open bugs you may see.")]
    lines = [bug_line(number, bug) for number, bug in enumerate(bugs, start=1)]
    return [
        section(f"*{title}*"),
        *(section(line) for line in lines),
        context("Reports, tickets and people counted over what you may read (`/bug help top`)."),
    ]


def plain_line(number: int, bug: TopBug) -> str:
    facts = [bug.summary, bug.numbers.priority or "", bug.state or "", age(bug.numbers)]
    title = f" {printable(' '.join(bug.title[:TITLE_SHOWN].split()))}" if bug.title else ""
    return f"{number}. {bug.ticket_id}{title} — " + " · ".join(printable(fact) for fact in facts if fact)


def build_top_reply(bugs: Sequence[TopBug]) -> Reply:
    lines = [plain_line(number, bug) for number, bug in enumerate(bugs, start=1)]
    text = "Open bugs by impact\n" + ("\n".join(lines) if bugs else "No open bugs you may see.")
    return Reply(text=text, blocks=build_top_blocks(bugs))
