"""Zendesk ticket (the incremental export's JSON) -> BugRecord.

The export's page carries tickets as plain JSON plus, on the first page, the sideloaded `users`; mapping from
that JSON (rather than zenpy's Ticket objects, whose `requester` property fetches the user with one request
per ticket) keeps it to one request per page, plus one `users/show_many` per 100 users the sideload lacks
(adapters/zendesk_pull.py). Newer-wins compares `generated_timestamp` (source_version), not updated_at.
A ticket that cannot be mapped raises UnmappableRecord with a one-line reason;
oddities that still leave a usable record (an unknown priority or status) are kept and logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from adapters.pull import item_id, item_times
from storage.bounds import bound_record
from storage.errors import BugTrackerError
from storage.model import ZENDESK_STATE_TYPES, BugRecord, normalize_priority, timestamp_from_epoch

log = logging.getLogger(__name__)

# Ticket fields kept as attributes beside the named ones (small, and useful when showing a ticket).
STATUS_LABEL_LIMIT = 100  # an agent label is an admin's text: kept short
_EXTRA_FIELDS = ("type", "group_id", "organization_id", "brand_id", "external_id")


def agent_url(subdomain: str, ticket_id: int | str) -> str:
    return f"https://{subdomain}.zendesk.com/agent/tickets/{ticket_id}"


def index_users(users: Any) -> dict[int, dict[str, Any]]:
    """The sideloaded users of one page by id: {"id", "name", "email"} only (no more is kept)."""
    indexed: dict[int, dict[str, Any]] = {}
    for user in users if isinstance(users, list) else []:
        if isinstance(user, Mapping) and isinstance(user.get("id"), int):
            indexed[user["id"]] = {"id": user["id"], "name": user.get("name"), "email": user.get("email")}
    return indexed


MERGED_STATE = "merged"  # a ticket merged into another: closed and tagged closed_by_merge
MERGED_TAG = "closed_by_merge"
MERGED_INTO = "merged_into"  # the attribute naming the ticket a merged one went into ("ZD-5"), when known
# The labels Zendesk gives its built-in statuses: a label that says no more than its category
BUILT_IN_LABELS = {"new": "new", "open": "open", "pending": "pending", "hold": "on-hold", "solved": "solved"}


_MERGED_INTO = re.compile(r"merged into request #(\d{1,15})")


def merge_target(audits: Any) -> int | None:
    """The ticket a merged ticket's audits say it was merged into (the newest merge), or None.

    Read from an audit's or event's `via.source` (`rel: "merge"`, `to: {ticket_id}`) or, failing that, from
    the comment Zendesk writes on the merged ticket ("…closed and merged into request #123 …")."""
    for audit in reversed(audits if isinstance(audits, list) else []):
        if not isinstance(audit, Mapping):
            continue
        events = [e for e in audit.get("events") or [] if isinstance(e, Mapping)]
        for holder in (audit, *events):
            source = (
                (holder.get("via") or {}).get("source") if isinstance(holder.get("via"), Mapping) else None
            )
            if isinstance(source, Mapping) and source.get("rel") == "merge":
                to = source.get("to")
                target = to.get("ticket_id") if isinstance(to, Mapping) else None
                if isinstance(target, int) and not isinstance(target, bool):
                    return target
        for event in events:
            body = event.get("body")
            if event.get("type") == "Comment" and isinstance(body, str):
                found = _MERGED_INTO.search(body[:2000])
                if found:
                    return int(found.group(1))
    return None


def index_custom_statuses(statuses: Any) -> dict[int, dict[str, Any]]:
    """GET /api/v2/custom_statuses (zenpy CustomStatus objects or plain JSON) by id: agent_label,
    status_category, default (this category's default status: NOT "built-in", which says nothing of
    its label: a built-in status can stop being the default and a custom one can become it)."""
    indexed: dict[int, dict[str, Any]] = {}
    for status in statuses if isinstance(statuses, list) else []:
        read = status.get if isinstance(status, Mapping) else lambda name, s=status: getattr(s, name, None)
        status_id, label = read("id"), read("agent_label")
        if isinstance(status_id, int) and isinstance(label, str) and label.strip():
            indexed[status_id] = {
                "agent_label": label.strip()[:STATUS_LABEL_LIMIT],
                "status_category": read("status_category"),
                "default": read("default") is True,
            }
    return indexed


def says_only_its_category(label: str, category: Any) -> bool:
    """`Open` for open, `On-hold` for hold: a label that adds nothing to the status it is a kind of."""
    text = label.strip().casefold()
    return isinstance(category, str) and text in (category, BUILT_IN_LABELS.get(category))


def _state(
    ticket: Mapping[str, Any], statuses: Mapping[int, Mapping[str, Any]] | None
) -> tuple[str | None, str | None, Mapping[str, Any] | None]:
    """(state, state type, the custom status or None): a merged ticket is `merged` (done); a ticket in a
    custom status is in its agent label, typed by its category, unless the label only names the category
    (a default status or not: `default` means the category's default, not built-in); otherwise in its
    status."""
    status = ticket.get("status") if isinstance(ticket.get("status"), str) else None
    tags = ticket.get("tags")
    if status == "closed" and isinstance(tags, list) and MERGED_TAG in tags:
        return MERGED_STATE, "done", None
    custom_id = ticket.get("custom_status_id")
    custom = (statuses or {}).get(custom_id) if isinstance(custom_id, int) else None
    if custom and status not in ("closed", "deleted"):
        category = custom["status_category"]
        if not says_only_its_category(custom["agent_label"], category):
            return custom["agent_label"], ZENDESK_STATE_TYPES.get(category), custom
    if status and ZENDESK_STATE_TYPES.get(status) is None:
        log.warning("Zendesk ticket %s: unknown status %r (no state type)", ticket.get("id"), status)
    return status, ZENDESK_STATE_TYPES.get(status) if status else None, None


def _person(user_id: Any, users: Mapping[int, dict[str, Any]]) -> dict[str, Any] | None:
    if user_id is None:
        return None
    # A user missing from the sideload (deleted user, partial page) keeps at least its id.
    return users.get(user_id) or {"id": user_id, "name": None, "email": None}


def _priority(raw: Any, ticket_id: Any) -> str | None:
    try:
        return normalize_priority(raw)
    except BugTrackerError:
        log.warning("Zendesk ticket %s: unknown priority %r kept as raw text only", ticket_id, raw)
        return None


def generated_version(ticket: Mapping[str, Any]) -> str | None:
    """The export's `generated_timestamp` (unix seconds) as a stored timestamp: what newer-wins compares.

    It moves on every change, system updates included (a trigger setting the status moves it and not
    updated_at); absent or unusable, the record is compared by updated_at.
    """
    value = ticket.get("generated_timestamp")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return timestamp_from_epoch(value)


def user_ids(ticket: Any) -> set[int]:
    """The requester and assignee ids a ticket names (the users a page needs names for)."""
    if not isinstance(ticket, Mapping):
        return set()
    return {value for name in ("requester_id", "assignee_id") if isinstance(value := ticket.get(name), int)}


def ticket_to_record(
    ticket: Any,
    users: Mapping[int, dict[str, Any]],
    subdomain: str,
    custom_statuses: Mapping[int, Mapping[str, Any]] | None = None,
) -> BugRecord:
    """Map one exported ticket; raise UnmappableRecord when it has no id or no usable timestamps.
    `custom_statuses`: index_custom_statuses of GET /api/v2/custom_statuses."""
    ticket_id = item_id(ticket, "Zendesk export item")
    created_at, updated_at = item_times(ticket, f"Zendesk ticket {ticket_id}")
    status = ticket.get("status") if isinstance(ticket.get("status"), str) else None
    state, state_type, custom = _state(ticket, custom_statuses)
    priority_raw = ticket.get("priority") if isinstance(ticket.get("priority"), str) else None
    subject = ticket.get("subject") if isinstance(ticket.get("subject"), str) else ""
    tags = ticket.get("tags")
    attributes: dict[str, Any] = {
        "subject": subject,
        "requester": _person(ticket.get("requester_id"), users),
        "assignee": _person(ticket.get("assignee_id"), users),
        "tags": sorted(str(tag) for tag in tags) if isinstance(tags, list) else [],
    }
    attributes.update({name: ticket[name] for name in _EXTRA_FIELDS if ticket.get(name) is not None})
    if custom is not None:
        attributes["status"] = status  # the status category the export names; state is the agent label
        attributes["custom_status_id"] = ticket.get("custom_status_id")
    record = BugRecord(
        source_system="zendesk",
        record_id=str(ticket_id),
        created_at=created_at,
        updated_at=updated_at,
        title=subject,
        priority=_priority(priority_raw, ticket_id),
        priority_raw=priority_raw,
        state=state,
        state_type=state_type,
        url=agent_url(subdomain, ticket_id),
        deleted=status == "deleted",
        attributes=attributes,
        source_version=generated_version(ticket),
    )
    return bound_record(record)  # a customer can paste a novel into a subject
