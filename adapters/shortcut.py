"""Shortcut story (search API JSON) -> BugRecord, and the Zendesk tickets a story links to.

Priority: the value of the story's custom field whose `canonical_name` is `priority` (the built-in Priority
field: Highest / High / Medium / Low). A story's custom fields carry only ids, so the caller passes the ids
of the priority field(s), read once from GET /custom-fields; a Severity or team field never counts. Without a
priority field value, the first label that reads as a priority (e.g. "P1", "urgent", "priority:high");
otherwise None.
State: the workflow state's name and its type (backlog / unstarted / started / done). An archived story is
recorded with state `archived` and type `done` (its workflow state stays in `attributes.workflow_state`):
counted as done, left out of lists unless asked for with `--state archived`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping
from typing import Any

from adapters.pull import item_id, item_times
from storage.bounds import bound_record
from storage.errors import BugTrackerError
from storage.model import ARCHIVED_STATE, STATE_TYPES, BugRecord, normalize_priority

log = logging.getLogger(__name__)

# …zendesk.com/agent/tickets/<id>, …zendesk.com/tickets/<id>, …zendesk.com/api/v2/tickets/<id>.json
_ZENDESK_TICKET = re.compile(
    r"^https?://[^/\s]+\.zendesk\.com/(?:agent/|api/v2/)?tickets/([0-9]{1,19})\b", re.I
)
# The story's page as Shortcut gives it; anything else is not shown as a link (bot/slack/mrkdwn.py).
_APP_URL = re.compile(r"^https://app\.shortcut\.com/[A-Za-z0-9._~/%-]+$")
_PRIORITY_PREFIX = re.compile(r"^(?:priority|prio|severity)\s*[:=/ -]\s*", re.I)

WorkflowStates = Mapping[int, Mapping[str, str]]  # state id -> {"name", "type"}


def zendesk_ticket_ids(external_links: Any) -> list[int]:
    """Zendesk ticket ids named by a story's external links, lowest first, each once."""
    found = set()
    for link in external_links if isinstance(external_links, list) else []:
        match = _ZENDESK_TICKET.match(link.strip()) if isinstance(link, str) else None
        if match:
            found.add(int(match.group(1)))
    return sorted(found)


def story_url(app_url: Any) -> str | None:
    """The story's page, only when it is a plain https://app.shortcut.com/... URL (the bot links to it)."""
    if isinstance(app_url, str) and _APP_URL.match(app_url):
        return app_url
    if app_url is not None:
        log.warning("Shortcut story: app_url %r is not a Shortcut page; kept no link", str(app_url)[:200])
    return None


def as_priority(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    try:
        return normalize_priority(_PRIORITY_PREFIX.sub("", text.strip()))
    except BugTrackerError:
        return None


def story_priority(
    story: Mapping[str, Any], priority_fields: Collection[str] = ()
) -> tuple[str | None, str | None]:
    """(normalized priority, the raw text it came from) or (None, None).

    `priority_fields`: ids of the custom fields whose canonical_name is "priority".
    """
    candidates = [
        field.get("value")
        for field in story.get("custom_fields") or []
        if isinstance(field, Mapping) and field.get("field_id") in priority_fields
    ]
    candidates += [label.get("name") for label in story.get("labels") or [] if isinstance(label, Mapping)]
    for raw in candidates:
        priority = as_priority(raw)
        if priority:
            return priority, raw
    return None, None


def custom_field_ids(story: Any) -> set[str]:
    """The ids of the custom fields a story carries (to notice a field the cache does not know)."""
    if not isinstance(story, Mapping):
        return set()
    fields = story.get("custom_fields") or []
    return {f["field_id"] for f in fields if isinstance(f, Mapping) and isinstance(f.get("field_id"), str)}


def story_to_record(story: Any, states: WorkflowStates, priority_fields: Collection[str] = ()) -> BugRecord:
    """Map one story; raise UnmappableRecord when it has no id or no creation time."""
    story_id = item_id(story, "Shortcut search result")
    # updated_at is nullable in the spec: a story never updated is as new as its creation.
    created_at, updated_at = item_times(story, f"Shortcut story {story_id}")
    state = states.get(story.get("workflow_state_id")) or {}
    state_name = state.get("name")
    state_type = state.get("type") if state.get("type") in STATE_TYPES else None
    archived = story.get("archived") is True
    if archived:
        state_name, state_type = ARCHIVED_STATE, "done"
    priority, priority_raw = story_priority(story, priority_fields)
    name = story.get("name") if isinstance(story.get("name"), str) else ""
    links = [link for link in story.get("external_links") or [] if isinstance(link, str)]
    attributes: dict[str, Any] = {
        "shortcut_story_id": story_id,
        "name": name,
        "story_type": story.get("story_type"),
        "external_links": links,
        "zendesk_ticket_ids": zendesk_ticket_ids(links),
        "labels": sorted(
            str(label.get("name")) for label in story.get("labels") or [] if isinstance(label, Mapping)
        ),
        "owner_ids": list(story.get("owner_ids") or []),
        "archived": archived,
        "workflow_state": state.get("name"),
    }
    record = BugRecord(
        source_system="shortcut",
        record_id=str(story_id),
        created_at=created_at,
        updated_at=updated_at,
        title=name,
        priority=priority,
        priority_raw=priority_raw,
        state=state_name,
        state_type=state_type,
        url=story_url(story.get("app_url")),
        attributes=attributes,
    )
    return bound_record(record)
