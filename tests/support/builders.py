"""Small builders of records for tests: every field has a sensible default, override what matters."""

from __future__ import annotations

from storage.model import BugRecord, timestamp_from_epoch

BASE_EPOCH = 1_764_300_000  # 2025-11-28


def slack_record(
    n: int = 1, *, updated: int = 0, text: str = "checkout button broken", **overrides
) -> BugRecord:
    ts = f"{BASE_EPOCH + n}.{n:06d}"
    fields = dict(
        source_system="slack",
        record_id=ts,
        created_at=timestamp_from_epoch(BASE_EPOCH + n),
        updated_at=timestamp_from_epoch(BASE_EPOCH + n + updated),
        title=text.splitlines()[0][:120],
        url=f"https://example.slack.com/archives/C0BUGS/p{ts.replace('.', '')}",
        attributes={"author": "U0AUTHOR", "text": text, "channel": "C0BUGS"},
    )
    fields.update(overrides)
    return BugRecord(**fields)


def zendesk_record(
    n: int = 1, *, updated: int = 0, status: str = "open", priority: str | None = "High", **overrides
):
    from storage.model import ZENDESK_STATE_TYPES

    fields = dict(
        source_system="zendesk",
        record_id=str(n),
        created_at=timestamp_from_epoch(BASE_EPOCH + n),
        updated_at=timestamp_from_epoch(BASE_EPOCH + n + updated),
        title=f"Ticket {n}",
        priority=priority,
        priority_raw=priority and priority.lower(),
        state=status,
        state_type=ZENDESK_STATE_TYPES[status],
        url=f"https://acme.zendesk.com/agent/tickets/{n}",
        deleted=status == "deleted",
        attributes={"subject": f"Ticket {n}", "requester": "ann@example.com", "assignee": "bob@example.com"},
    )
    fields.update(overrides)
    return BugRecord(**fields)


def shortcut_record(
    n: int = 1, *, updated: int = 0, state: str = "In Progress", state_type: str = "started", **kw
):
    fields = dict(
        source_system="shortcut",
        record_id=str(n),
        created_at=timestamp_from_epoch(BASE_EPOCH + n),
        updated_at=timestamp_from_epoch(BASE_EPOCH + n + updated),
        title=f"Story {n}",
        state=state,
        state_type=state_type,
        url=f"https://app.shortcut.com/acme/story/{n}",
        attributes={"shortcut_story_id": n, "name": f"Story {n}"},
    )
    fields.update(kw)
    return BugRecord(**fields)


def logfmt_dump(size: int = 40_000) -> str:
    """A pasted log of about `size` characters, dense with tags (thousands of priority= and ticketId=, most
    of them unreadable) and with Slack markup in it: the message that used to overflow items and replies."""
    lines: list[str] = []
    total, n = 0, 0
    while total < size:
        line = (
            f"ts=2026-11-0{n % 9 + 1}T10:00:00Z level=error priority=p{n % 7} ticketId=ZD-{n}"
            f' ticket_id=SC-{n}x msg="boom <!channel> &amp; {n}"'
        )
        lines.append(line)
        total += len(line) + 1
        n += 1
    return "\n".join(lines)
