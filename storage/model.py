"""The unified record: ticket ids, source records, and the priority / state vocabulary."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from storage.errors import InvalidPriority, InvalidTicketId

SOURCES = ("slack", "zendesk", "shortcut")
PREFIX_BY_SOURCE = {"zendesk": "ZD", "shortcut": "SC", "slack": "SL"}
SOURCE_BY_PREFIX = {prefix: source for source, prefix in PREFIX_BY_SOURCE.items()}

PRIORITIES = ("Critical", "High", "Medium", "Low")
# Shortcut's four workflow state types; Zendesk statuses map onto them (ZENDESK_STATE_TYPES).
STATE_TYPES = ("backlog", "unstarted", "started", "done")
# The state of an archived Shortcut story: counted as done, left out of lists unless asked for by state.
ARCHIVED_STATE = "archived"

ACCEPTED_ID_FORMS = (
    "ZD-<digits> (Zendesk), SC-<digits> (Shortcut), SL-<slack ts> e.g. SL-1732712345.123456 (Slack)"
)

_TICKET_ID = re.compile(r"^(ZD|SC)-([0-9]{1,19})$|^(SL)-([0-9]{9,11}\.[0-9]{6})$", re.IGNORECASE)

# Synonyms people and systems use for the four priorities. Zendesk: urgent/high/normal/low.
_PRIORITY_SYNONYMS = {
    "critical": "Critical",
    "urgent": "Critical",
    "blocker": "Critical",
    "highest": "Critical",
    "p0": "Critical",
    "sev1": "Critical",
    "high": "High",
    "p1": "High",
    "sev2": "High",
    "medium": "Medium",
    "normal": "Medium",
    "med": "Medium",
    "p2": "Medium",
    "sev3": "Medium",
    "low": "Low",
    "lowest": "Low",
    "minor": "Low",
    "p3": "Low",
    "p4": "Low",
    "sev4": "Low",
}

# Zendesk statuses and their coarse type. Shortcut gives its own type per workflow state.
ZENDESK_STATE_TYPES = {
    "new": "unstarted",
    "open": "started",
    "pending": "started",
    "hold": "started",
    "solved": "done",
    "closed": "done",
    "deleted": "done",
}


def parse_ticket_id(text: str) -> str:
    """Return the canonical form of a ticket id or raise InvalidTicketId.

    Canonical: upper-case prefix, and for Zendesk / Shortcut the number without leading zeros
    (`zd-0042` -> `ZD-42`), the form the sources' own ids take; a Slack ts is kept as written.
    """
    candidate = (text or "").strip()
    match = _TICKET_ID.match(candidate)
    if not match:
        shown = candidate if len(candidate) <= 60 else candidate[:57] + "..."
        raise InvalidTicketId(f"'{shown}' is not a ticket id; use {ACCEPTED_ID_FORMS}")
    prefix, number = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    if match.group(1):
        number = str(int(number))
    return f"{prefix.upper()}-{number}"


def is_canonical_ticket_id(text: str) -> bool:
    """True when text is a ticket id in its canonical form (stored data written before ids were
    canonicalised may hold `ZD-0042`; `bugtracker init` moves such records under `ZD-42`)."""
    try:
        return parse_ticket_id(text) == text
    except InvalidTicketId:
        return False


def source_of(ticket_id: str) -> str:
    """The source system a (canonical) ticket id belongs to."""
    return SOURCE_BY_PREFIX[ticket_id.split("-", 1)[0]]


def home_id(source_system: str, record_id: str) -> str:
    """The ticket id a source record has in its own system (where it lives until linked)."""
    return f"{PREFIX_BY_SOURCE[source_system]}-{record_id}"


def normalize_priority(raw: str | None) -> str | None:
    """Map a raw priority to Critical/High/Medium/Low; None for no priority; raise for unknown words."""
    if raw is None:
        return None
    word = str(raw).strip().strip("`*_").lower()
    if not word:
        return None
    try:
        return _PRIORITY_SYNONYMS[word]
    except KeyError:
        raise InvalidPriority(
            f"'{raw}' is not a priority; use {', '.join(PRIORITIES)} (or urgent/normal, P0-P4, sev1-sev4)"
        ) from None


def format_timestamp(moment: datetime) -> str:
    """One timestamp format everywhere, so that strings sort in time order (indexes rely on it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timestamp_from_epoch(seconds: float | str) -> str:
    return format_timestamp(datetime.fromtimestamp(float(seconds), tz=UTC))


def parse_timestamp(text: str) -> datetime:
    """Read an ISO 8601 timestamp (with Z or an offset; a bare date means midnight UTC)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def normalize_timestamp(text: str) -> str:
    return format_timestamp(parse_timestamp(text))


def now_timestamp() -> str:
    return format_timestamp(datetime.now(UTC))


@dataclass(frozen=True)
class BugRecord:
    """One record from one source system, as the store keeps it.

    `attributes` holds the source's own fields (Zendesk requester/assignee/subject/tags, Slack
    author/text/channel, Shortcut shortcut_story_id/name); the named fields are what every source shares
    and what the indexes serve. `ticket_id` is where the record lives now: its home id until it is linked.
    """

    source_system: str
    record_id: str
    created_at: str
    updated_at: str
    title: str = ""
    priority: str | None = None
    priority_raw: str | None = None
    state: str | None = None
    state_type: str | None = None
    url: str | None = None
    deleted: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)
    ticket_id: str | None = None
    # What newer-wins compares when the source has a better clock than updated_at (Zendesk's
    # generated_timestamp moves on system updates too); a stored timestamp, or None to compare updated_at.
    source_version: str | None = None

    def __post_init__(self) -> None:
        if self.source_system not in SOURCES:
            raise ValueError(f"unknown source system {self.source_system!r}")
        if self.priority is not None and self.priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, not {self.priority!r}")
        if self.state_type is not None and self.state_type not in STATE_TYPES:
            raise ValueError(f"state type must be one of {STATE_TYPES}, not {self.state_type!r}")

    @property
    def home_id(self) -> str:
        return home_id(self.source_system, self.record_id)

    @property
    def source_record(self) -> str:
        """The sort key: `<sourceSystem>#<recordId>`."""
        return f"{self.source_system}#{self.record_id}"

    @property
    def location(self) -> str:
        return self.ticket_id or self.home_id

    @property
    def version(self) -> str:
        """The value newer-wins compares: source_version when the source gives one, else updated_at."""
        return self.source_version or self.updated_at

    def same_content(self, other: BugRecord) -> bool:
        """True when both copies say the same thing, wherever they live."""
        return replace(self, ticket_id=None) == replace(other, ticket_id=None)


def range_bounds(since: str | None, until: str | None) -> tuple[str, str]:
    """Turn user-given dates or timestamps into an inclusive [low, high] range of stored timestamps.

    A bare date as `until` means the end of that day.
    """
    low = "0000"
    high = "9999"
    if since:
        low = normalize_timestamp(since)
    if until:
        text = until.strip()
        high = normalize_timestamp(text)
        if len(text) == 10:  # YYYY-MM-DD: include the whole day
            high = high[:10] + "T23:59:59.999999Z"
    return low, high
