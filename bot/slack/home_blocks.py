"""Block Kit for the App Home tab (views.publish): pure, every outside string escaped, within Slack's
100 blocks a view. Buttons link a suggested ticket to a report (bot/slack/listeners/home.py)."""

from __future__ import annotations

from typing import Any

from bot.slack.home_data import HomeData, OwnReport, UnlinkedReport
from bot.slack.impact_blocks import bug_line
from bot.slack.mrkdwn import (
    Block,
    bold,
    button,
    context,
    escape,
    fit_blocks,
    header,
    inert,
    link,
    section,
    truncate_plain,
)
from bot.text_renderers import short_time
from storage import systems
from storage.model import PRIORITIES, SOURCES

HOME_LINK_PREFIX = "home_link_"  # + position: action ids are unique within a view
MAX_VIEW_BLOCKS = 100
TITLE_SHOWN = 150
SUGGESTIONS_SHOWN = 3
NO_PRIORITY = {"none": "no priority"}


def _counts_line(counts: dict[str, int], order: tuple[str, ...], labels: dict[str, str] | None = None) -> str:
    keys = [key for key in order if key in counts] + sorted(set(counts) - set(order))
    shown = [f"{(labels or {}).get(key, key)} {bold(str(counts[key]))}" for key in keys]
    return " · ".join(shown) or "_none_"


def _unlinked_blocks(items: list[UnlinkedReport], more: bool) -> list[Block]:
    blocks: list[Block] = [header("Newest reports not linked to a ticket")]
    if not items:
        blocks.append(section("_every report is linked_ :tada:"))
    position = 0
    for item in items:
        report = item.report
        title = truncate_plain(report.title or "(no title)", TITLE_SHOWN)
        priority = inert(report.priority or "no priority")
        facts = f"{bold(report.home_id)} · {priority} · {short_time(report.created_at)}"
        blocks.append(section(f"{facts}\n{link(report.url, title)}"))
        buttons = []
        for suggestion in item.suggestions[:SUGGESTIONS_SHOWN]:
            buttons.append(
                button(
                    f"{HOME_LINK_PREFIX}{position}",
                    f"Link to {suggestion.ticket_id}",
                    f"{report.home_id} {suggestion.ticket_id}",
                )
            )
            position += 1
        if buttons:
            looks = ", ".join(
                f"{inert(s.ticket_id)} {inert(truncate_plain(s.title or '', 60))}"
                for s in item.suggestions[:SUGGESTIONS_SHOWN]
            )
            blocks.append(context(f"Looks like: {looks}"))
            blocks.append({"type": "actions", "elements": buttons})
        else:
            blocks.append(
                context(
                    f"No look-alike found. On the message: ⋮ → *Link to ticket…*, or "
                    f"`/bug link {escape(report.home_id)} ZD-12345`"
                )
            )
    if more:
        blocks.append(context("More: `/bug unlinked`"))
    return blocks


def _own_line(item: OwnReport) -> str:
    if item.view is None:
        return f"{bold(item.report_id)} · _no longer stored_"
    view = item.view
    report = next((r for r in view.records if r.home_id == item.report_id), None)
    title = inert(truncate_plain(report.title if report else "", TITLE_SHOWN))
    if view.ticket_id == item.report_id:
        return f"{bold(item.report_id)} · _not linked to a ticket yet_\n{title}"
    states = [
        f"{systems.label(r.source_system)} {escape(r.home_id)}: "
        f"{bold(truncate_plain(r.state or '-', 60))}" + (" _(deleted)_" if r.deleted else "")
        for r in view.records
        if r.source_system != "slack"
    ][:5]
    return (
        f"{bold(item.report_id)} → {bold(view.ticket_id)} · "
        + (" · ".join(states) or "_no ticket record yet_")
        + f"\n{title}"
    )


def build_home_view(data: HomeData, notice: str | None = None) -> dict[str, Any]:
    """The Home view; `notice` (already mrkdwn) answers the person's last button press."""
    blocks: list[Block] = []
    if notice:
        blocks.append(section(notice))
    if data.refusal is not None:
        return {"type": "home", "blocks": [*blocks, header("Bug reports"), section(escape(data.refusal))]}
    blocks.append(header("Open bugs"))
    blocks.append(
        section(
            f"*By priority:* {_counts_line(data.counts.open_by_priority, (*PRIORITIES, 'none'), NO_PRIORITY)}"
        )
    )
    blocks.append(
        section(f"*By source:* {_counts_line(data.counts.open_by_source, SOURCES, systems.LABELS)}")
    )
    blocks.append({"type": "divider"})
    blocks.append(header("Hurts most"))
    if data.hurts_most:
        blocks += [section(bug_line(n, bug)) for n, bug in enumerate(data.hurts_most, start=1)]
        blocks.append(context("Ranked by people, then reports and tickets. More: `/bug top`"))
    else:
        blocks.append(section("_no open bugs_"))
    blocks.append({"type": "divider"})
    blocks += _unlinked_blocks(data.unlinked, data.more_unlinked)
    blocks.append({"type": "divider"})
    blocks.append(header("Your reports"))
    if not data.own:
        blocks.append(section("_none yet: post a bug in the bug channel and it shows here_"))
    blocks += [section(_own_line(item)) for item in data.own]
    return {"type": "home", "blocks": fit_blocks(blocks, MAX_VIEW_BLOCKS)}
