"""Block Kit for the daily digest (bot/digest.py): pure, outside text inert, links only around record URLs."""

from __future__ import annotations

from typing import Any

from bot.digest import Digest
from bot.slack.impact_blocks import bug_line
from bot.slack.mrkdwn import Block, context, escape, fit_blocks, header, inert, link, section, truncate_plain
from bot.text_renderers import printable, short_time

TITLE_SHOWN = 120


def build_digest_blocks(digest: Digest) -> list[Block]:
    blocks: list[Block] = [header("Daily bug digest")]
    blocks.append(section("*Hurts most*"))
    if digest.top:
        blocks += [section(bug_line(number, bug)) for number, bug in enumerate(digest.top, start=1)]
    else:
        blocks.append(context("No open bugs."))
    blocks.append(section("*Still unlinked after a day*"))
    if digest.stale:
        for report in digest.stale:
            title = inert(truncate_plain(report.title or "(no text)", TITLE_SHOWN))
            facts = f"{inert(report.priority or 'no priority')} · since {short_time(report.created_at)} UTC"
            blocks.append(section(f"{link(report.url, report.home_id)} · {facts}\n{title}"))
    else:
        blocks.append(context("Every report older than a day is linked."))
    since = f" since {short_time(digest.since)} UTC" if digest.since else ""
    blocks.append(section(f"*Done{escape(since)}*"))
    if digest.done:
        blocks += [
            section(f"{link(item.url, item.ticket_id)} {inert(truncate_plain(item.title, TITLE_SHOWN))}")
            for item in digest.done
        ]
    else:
        blocks.append(context("Nothing reached a done state."))
    blocks.append(context("Counts cover what everyone in this channel may read. `/bug top` for more."))
    return fit_blocks(blocks)


def digest_text(digest: Digest) -> str:
    lines = ["Daily bug digest"]
    lines += [f"{n}. {bug.ticket_id} — {bug.summary}" for n, bug in enumerate(digest.top, start=1)]
    lines.append(f"{len(digest.stale)} report(s) still unlinked after a day; {len(digest.done)} done")
    return printable("\n".join(lines))


def digest_payload(digest: Digest) -> dict[str, Any]:
    return {"channel": digest.channel, "text": digest_text(digest), "blocks": build_digest_blocks(digest)}
