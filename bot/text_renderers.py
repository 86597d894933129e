"""Plain-text renderings for people at a terminal (the CLI). Pure functions of the store's values."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from adapters.zendesk import MERGED_INTO, MERGED_STATE
from storage import systems
from storage.model import PRIORITIES, SOURCES, STATE_TYPES, BugRecord
from storage.values import Counts, LinkResult, Page, TicketView

# C0/C1 controls (ANSI escapes); bidi marks, embeddings, overrides and isolates (U+061C, U+200E-U+200F,
# U+202A-U+202E, U+2066-U+2069: they reorder or disguise what follows); zero-width and invisible characters
# (U+180E, U+200B-U+200D, U+2060-U+2065, U+FEFF: they hide inside ids and words). One character class: linear.
_TICKET_ID = re.compile(r"ZD-[0-9]{1,15}")

_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def printable(text: object) -> str:
    """Plain text for a terminal: control characters (ANSI escapes), bidi controls and invisible characters
    dropped."""
    return _CONTROL.sub("", "" if text is None else str(text))


def _cell(value: object) -> str:
    """One table cell of outside text: printable, on one line."""
    return " ".join(printable(value).split())


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(header) for header in headers]] + [
        ["" if cell is None else _cell(cell) for cell in row] for row in rows
    ]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def short_time(timestamp: str | None, zone: tzinfo | None = None) -> str:
    """2026-11-28T19:08:46.123456Z -> 2026-11-28 19:08 (UTC, or in `zone`: the CLI's local time)"""
    if not timestamp:
        return ""
    if zone is None:
        return f"{timestamp[:10]} {timestamp[11:16]}"
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return f"{timestamp[:10]} {timestamp[11:16]}"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def local_zone() -> tzinfo | None:
    """This machine's time zone (TZ, /etc/localtime); None when that is UTC."""
    zone = datetime.now().astimezone().tzinfo
    if zone is None or (zone.utcoffset(None) == timedelta(0) and zone_label(zone) == "UTC"):
        return None
    return zone


def zone_label(zone: tzinfo | None) -> str:
    """What a time column is in: `UTC`, `CET`, ..."""
    return "UTC" if zone is None else (datetime.now(zone).tzname() or "local")


CLI_SHOW_DELETED = "add --include-deleted"


def deleted_note(hidden: int, how: str = CLI_SHOW_DELETED) -> str:
    """What a view leaves out: `1 record deleted upstream; add --include-deleted to see it`."""
    records, them = ("1 record", "it") if hidden == 1 else (f"{hidden} records", "them")
    return f"{records} deleted upstream; {how} to see {them}"


def format_view(view: TicketView, show_deleted: str = CLI_SHOW_DELETED, zone: tzinfo | None = None) -> str:
    """`show_deleted`: how the reader asks for the deleted records the view leaves out; times in `zone`
    (None: UTC), the columns say which."""
    lines = []
    if view.was_linked:
        lines.append(f"{view.requested_id} was linked: {' -> '.join(view.alias_chain)}")
    if view.link_in_progress:
        lines.append("a link or unlink is still moving records here; run it again to finish it")
    counted = f"{len(view.records)} record(s)"
    if view.hidden_deleted:
        note = deleted_note(view.hidden_deleted, show_deleted)
        counted = f"{counted}, and {note}" if view.records else note
    lines.append(f"{view.ticket_id}: {counted}")
    if view.records:
        rows = [
            (
                record.source_system,
                record.record_id,
                record.priority or "-",
                record.state or "-",
                short_time(record.created_at, zone),
                short_time(record.updated_at, zone),
                ("[deleted] " if record.deleted else "") + record.title[:60],
                record.url or "",
            )
            for record in view.records
        ]
        created, updated = f"created ({zone_label(zone)})", f"updated ({zone_label(zone)})"
        lines.append(table(("source", "id", "priority", "state", created, updated, "title", "link"), rows))
    if view.audit:
        lines.append(f"history (times {zone_label(zone)}):")
        for entry in view.audit:
            lines.append(
                f"  {short_time(entry.at, zone)}  {_cell(entry.actor)} {entry.action}ed {entry.from_id}"
                f" -> {entry.to_id} ({entry.moved} record(s) moved)"
            )
    return "\n".join(lines)


def format_link(action: str, result: LinkResult) -> str:
    if result.already:
        return f"{result.source_id} is already linked to {result.target_id}; nothing moved"
    where = result.resolved_target
    via = "" if where == result.target_id else f" (which resolves to {where})"
    if action == "link":
        head = f"linked {result.source_id} -> {result.target_id}{via}"
    else:
        head = f"unlinked {result.source_id} from {result.target_id}"
    moved = ", ".join(result.moved) if result.moved else "none"
    note = f" ({result.note})" if result.note else ""
    return f"{head}; moved {len(result.moved)} record(s): {moved}{note}"


def format_page(page: Page, zone: tzinfo | None = None) -> str:
    """Times in `zone` (None: UTC), the column says which."""
    if not page.records:
        return "no bugs match"
    rows = [
        (
            record.ticket_id,
            record.source_system,
            record.priority or "-",
            record.state or "-",
            short_time(record.created_at, zone),
            record.title[:60],
        )
        for record in page.records
    ]
    created = f"created ({zone_label(zone)})"
    text = table(("ticket", "source", "priority", "state", created, "title"), rows)
    if page.next_cursor:
        text += f"\nmore: --cursor {page.next_cursor}"
    return text


def format_drift(drift: dict[str, int]) -> str:
    """What a recount found: the counters that were off, by how much (recounted - kept)."""
    if not drift:
        return "recount: every counter was exact"
    lines = [f"recount: {len(drift)} counter(s) were off and are corrected (recounted - kept):"]
    lines += [f"  {name}: {number:+d}" for name, number in sorted(drift.items())]
    return "\n".join(lines)


def format_counts(counts: Counts) -> str:
    parts = [f"{counts.total} bug record(s), {counts.deleted} deleted upstream (not counted)"]
    priorities = [*PRIORITIES, "none"]
    parts.append(
        table(
            ("priority", "all", "open"),
            [(p, counts.by_priority.get(p, 0), counts.open_by_priority.get(p, 0)) for p in priorities],
        )
    )
    parts.append(
        table(
            ("source", "all", "open"),
            [(s, counts.by_source.get(s, 0), counts.open_by_source.get(s, 0)) for s in SOURCES],
        )
    )
    # The four state types always, in workflow order (backlog counted like the rest), then "none"
    # (Slack reports have no state) and anything else a store may hold.
    kinds = [*STATE_TYPES, *sorted(set(counts.by_state_type) - set(STATE_TYPES))]
    parts.append(table(("state type", "count"), [(k, counts.by_state_type.get(k, 0)) for k in kinds]))
    if counts.by_state:
        parts.append(table(("state", "count"), sorted(counts.by_state.items())))
    parts.append(f"Slack reports: {counts.slack_linked} linked, {counts.slack_unlinked} unlinked")
    return "\n\n".join(parts)


def is_merged(record: BugRecord) -> bool:
    """A Zendesk ticket closed into another (a Shortcut state may be named "merged": not this)."""
    return record.source_system == "zendesk" and record.state == MERGED_STATE


def merged_into(record: BugRecord) -> str | None:
    """The ticket a merged Zendesk ticket went into (`ZD-5`), when its audit named it; else None."""
    target = record.attributes.get(MERGED_INTO) if is_merged(record) else None
    return target if isinstance(target, str) and _TICKET_ID.fullmatch(target) else None


def merged_text(target: str | None) -> str:
    """How a merged ticket's state reads: where the work went, not "done"."""
    return f"merged into {target}" if target else "merged into another ticket"


def format_status_line(record: BugRecord) -> str:
    """`Zendesk ZD-12: solved (done), priority High` — one record of a status card, plain text."""
    r = record
    state = getattr(r, "state", None) or "-"
    kind = getattr(r, "state_type", None)
    shown = f"{state} ({kind})" if kind and kind != state else state
    if getattr(r, "source_system", "") == "slack":
        shown = "reported"
    elif is_merged(r):
        shown = merged_text(merged_into(r))
    text = f"{systems.label(r.source_system)} {r.home_id}: {shown}"
    text += f", priority {r.priority or '-'}"
    return text + (" [deleted upstream]" if r.deleted else "")


def format_transition(
    ticket_id: str, system: str, state: str | None, now: str, merged_into: str | None = None
) -> str:
    """`ZD-12 (Zendesk) is now done: solved` — the short notice a state-type change posts; `now`
    "merged": `ZD-3 (Zendesk) was merged into ZD-5` (`merged_into`, when known)."""
    label = systems.label(system)
    if now in ("deleted", "restored"):
        return f"{ticket_id} ({label}) was {now} upstream"
    if now == MERGED_STATE:
        return f"{ticket_id} ({label}) was {merged_text(merged_into)}"
    return f"{ticket_id} ({label}) is now {now}" + (f": {state}" if state and state != now else "")


def format_top(bugs: Sequence[Any]) -> str:
    """`bugtracker top`: one row per open bug, highest impact first (bot/top.py's TopBug)."""
    from bot.top import age

    rows = [
        (
            number,
            bug.ticket_id,
            bug.numbers.reports,
            bug.numbers.tickets,
            bug.numbers.people,
            bug.numbers.priority or "",
            bug.state or "",
            age(bug.numbers),
            bug.title[:80],
        )
        for number, bug in enumerate(bugs, start=1)
    ]
    return table(("#", "TICKET", "REPORTS", "TICKETS", "PEOPLE", "PRIORITY", "STATE", "AGE", "TITLE"), rows)
