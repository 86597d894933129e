"""Slack messages -> BugRecords, and the inline tag parser (`ticketId=ZD-12345`, `priority=High`).

The parser is forgiving about form (case, spaces around `=`, `:` instead of `=`, code formatting, trailing
punctuation) and never guesses about content: an unknown priority or a malformed id is reported back as a
problem and the raw text is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from storage.bounds import ELLIPSIS, bound_record, clip
from storage.errors import BugTrackerError
from storage.model import BugRecord, normalize_priority, parse_ticket_id, timestamp_from_epoch

TITLE_LIMIT = 120
# Bounds (storage/bounds.py has the why): the stored text, the tags kept, the problems named.
TEXT_LIMIT = 8000  # characters of a message's text kept; the permalink has the whole message
MAX_TAGS = 20  # (key, value) pairs kept as typed
TAG_VALUE_LIMIT = 100  # characters of one tag value (no id or priority is longer)
MAX_PROBLEMS = 5  # problem lines kept for a message; the last one sums up the rest
MAX_LISTED = 5  # values named in "found N different ..."
ACCEPTED_TAGS = "ticketId=ZD-12345 (or SC-123, SL-<ts>) and priority=Critical|High|Medium|Low"

# A key (`ticketId`, `ticket_id`, `ticket id`, `priority`) then `=` or `:` then one value token. Markdown
# decoration (`code`, *bold*, _italic_) may wrap the key, the value or the whole tag.
# Linear time on any text: the pattern starts at the key, never at the decoration before it. A leading
# `[`*_~]*` would be tried from every character of a run of 40,000 `*` and read the rest of the run each
# time (quadratic: 18 s for one message); the decoration before a key is taken by `_decoration_start`.
# After the key nothing can fail once `[=:]` matched, so the regex never backtracks over a long run.
_TAG = re.compile(
    r"(?<![A-Za-z0-9])(?P<key>ticket[ _-]?id|priority)[`*_~]*[ \t]*[=:][ \t]*[`*_~\"']*"
    r"(?P<value>[^\s`*~\"']*)",
    re.IGNORECASE,
)
_DECORATION = "`*_~"
_KEY_NEIGHBOUR = re.compile(r"[A-Za-z0-9]", re.IGNORECASE)  # what the key's look-behind refuses, exactly
_TRAILING = ".,;:!?)]}>'\"`*_~"
# Slack's wire text: `<…>` is markup (a person's literal `<` arrives as `&lt;`), and three entities.
_WIRE_TOKEN = re.compile(r"<([^<>]*)>|&(amp|lt|gt);")
_WIRE_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_ENTITY = re.compile(r"&(amp|lt|gt);")
# Subtypes that are a person posting: everything else (joins, topic changes, bot posts...) is noise.
_PERSON_SUBTYPES = (None, "thread_broadcast", "file_share")


def clip_markup(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """At most `limit` characters of Slack-format text (a message as sent, or mrkdwn the bot writes), ending
    with `ellipsis` when cut; never cuts inside an entity (`&amp;`) or a `<…>` span."""
    if len(text) <= limit:
        return text
    cut = max(0, limit - len(ellipsis))
    opening = text.rfind("<", 0, cut)
    if opening != -1 and text.find(">", opening, cut) == -1:
        cut = opening  # inside <…>: cut before it
    ampersand = text.rfind("&", max(0, cut - 4), cut)
    if ampersand != -1 and (entity := _ENTITY.match(text, ampersand)) and entity.end() > cut:
        cut = ampersand  # inside &amp; / &lt; / &gt;: cut before it
    return text[:cut] + ellipsis


def unescape(text: str) -> str:
    """Slack's three entities back to characters, in one pass (`&amp;lt;` -> `&lt;`, as typed)."""
    return _ENTITY.sub(lambda match: _WIRE_ENTITIES[match[1]], text)


def _readable_span(inner: str) -> str:
    """One `<…>` span of Slack's wire text as a person reads it, with no markup left in it."""
    target, _, label = inner.partition("|")
    if target.startswith("!"):  # <!channel>, <!here|here>, <!subteam^S1|@team>, <!date^…|fallback>
        if label:
            return label if label.startswith("@") or target.startswith("!date") else f"@{label}"
        return "@" + target[1:].split("^", 1)[-1]
    if target.startswith("@"):  # <@U123> or <@U123|name>
        return f"@{label}" if label else target
    if target.startswith("#"):  # <#C123> or <#C123|general>
        return f"#{label}" if label else target
    url = target.removeprefix("mailto:")
    if label and label not in (target, url):
        return f"{label} ({url})"  # a disguised link shows where it really goes
    return url


def plain_from_slack(text: str | None) -> str:
    """A Slack message's wire text as a person reads it, as plain text: mentions become inert words
    (`<!channel>` -> `@channel`), links show their URL (`<https://x|label>` -> `label (https://x)`), entities
    are decoded. For display and titles only: the stored text stays as Slack sent it."""
    if not text:
        return ""
    return _WIRE_TOKEN.sub(
        lambda match: _WIRE_ENTITIES[match[2]] if match[2] else _readable_span(unescape(match[1])), text
    )


@dataclass(frozen=True)
class Tags:
    ticket_id: str | None = None  # canonical, when exactly one readable id was given
    priority: str | None = None  # normalised
    priority_raw: str | None = None
    raw: tuple[tuple[str, str], ...] = ()  # (key, value) as typed, for the record
    problems: tuple[str, ...] = ()  # one line each, for the thread reply


def parse_tags(text: str | None) -> Tags:
    """Read every inline tag in a message. Never raises; what it cannot read becomes a problem line.
    However many tags a pasted dump holds, what comes back is small (MAX_TAGS, MAX_PROBLEMS)."""
    raw: list[tuple[str, str]] = []
    ids: list[str] = []
    priorities: list[tuple[str, str]] = []
    problems: list[str] = []
    for match in _TAG.finditer(unescape(text or "")):
        key = "ticketId" if match["key"].lower().startswith("ticket") else "priority"
        value = clip(match["value"].rstrip(_TRAILING), TAG_VALUE_LIMIT)
        raw.append((key, value))
        if not value:
            problems.append(f"{match['key']} has no value; write {ACCEPTED_TAGS}")
            continue
        try:
            if key == "ticketId":
                ids.append(parse_ticket_id(value))
            else:
                priorities.append((normalize_priority(value) or "", value))
        except BugTrackerError as exc:
            problems.append(f"could not read {match['key']}: {exc}")
    ticket_id = _one("ticket ids", sorted(set(ids)), problems)
    priority_values = sorted({normalized for normalized, _ in priorities})
    priority = _one("priorities", priority_values, problems)
    priority_raw = next((value for normalized, value in priorities if normalized == priority), None)
    if priority is None and not priorities:
        # keep the unreadable raw value so that a person can see what was typed
        priority_raw = next((value for key, value in raw if key == "priority" and value), None)
    return Tags(ticket_id, priority, priority_raw, tuple(raw[:MAX_TAGS]), _few(problems))


def _few(problems: list[str]) -> tuple[str, ...]:
    """At most MAX_PROBLEMS lines: past that, the last line says how many more there were."""
    if len(problems) <= MAX_PROBLEMS:
        return tuple(problems)
    left = len(problems) - (MAX_PROBLEMS - 1)
    return (*problems[: MAX_PROBLEMS - 1], f"…and {left} more problem(s) with the tags")


def _one(what: str, values: list[str], problems: list[str]) -> str | None:
    if len(values) > 1:
        listed = ", ".join(values[:MAX_LISTED]) + (", …" if len(values) > MAX_LISTED else "")
        problems.append(f"found {len(values)} different {what} ({listed}); give one, used none")
        return None
    return values[0] if values else None


def _decoration_start(text: str, key_at: int, floor: int) -> int:
    """Where a tag whose key is at `key_at` begins: the markup run just before the key (`*ticketId`) belongs
    to the tag, not further back than `floor` (the end of the previous tag) and not its first character
    when a letter or digit comes before the run (in `a*ticketId` the tag is `ticketId`, as the key's own
    look-behind reads it). Each character is walked over at most once per line: linear."""
    start = key_at
    while start > floor and text[start - 1] in _DECORATION:
        start -= 1
    if start < key_at and start > 0 and _KEY_NEIGHBOUR.match(text, start - 1):
        start += 1
    return start


def without_tags(text: str) -> str:
    """`text` with every tag (and the decoration around it) removed."""
    kept: list[str] = []
    done = 0
    for match in _TAG.finditer(text):
        kept.append(text[done : _decoration_start(text, match.start(), done)])
        done = match.end()
    kept.append(text[done:])
    return "".join(kept)


def title_of(text: str | None) -> str:
    """First non-empty line, tags removed, at most TITLE_LIMIT characters."""
    for line in plain_from_slack(text).splitlines():
        line = " ".join(without_tags(line).split()).strip(" -:")
        if line:
            return clip(line, TITLE_LIMIT)
    return "(no text)"


def is_person_message(event: dict[str, Any], bot_user_id: str | None = None) -> bool:
    """True for a message a person posted (top-level or in a thread); False for bots, joins and noise."""
    if event.get("subtype") not in _PERSON_SUBTYPES or event.get("bot_id") or event.get("bot_profile"):
        return False
    user = event.get("user")
    return bool(user) and user != bot_user_id and bool(event.get("ts"))


# The first person a message mentions: `<@U123>` or `<@U123|name>` (a form's "Submitted by @person").
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,30})(?:\|[^<>]{0,200})?>")
# Subtypes a listed intake bot (a Workflow Builder form, an integration) posts a report with.
_BOT_SUBTYPES = (None, "bot_message", "thread_broadcast", "file_share")
ANSWER_EVENT_TYPE = "bugtracker_answer"  # the metadata event_type on every answer the bot posts


def posting_bot(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """(bot id B…, app id A…) of a message a bot posted; (None, None) for a person's."""
    profile = event.get("bot_profile") or {}
    return event.get("bot_id") or profile.get("id"), event.get("app_id") or profile.get("app_id")


def is_intake_bot_message(
    event: dict[str, Any], intake_bots: tuple[str, ...] | frozenset[str], own: tuple[str | None, ...] = ()
) -> bool:
    """True for a message posted by a bot or app listed in SLACK_INTAKE_BOTS (a form, an integration), never
    by our own bot (`own`: its user id and bot id) nor one of our answers (their metadata says so)."""
    if not intake_bots or event.get("subtype") not in _BOT_SUBTYPES or not event.get("ts"):
        return False
    bot_id, app_id = posting_bot(event)
    if not (bot_id or app_id) or (event.get("metadata") or {}).get("event_type") == ANSWER_EVENT_TYPE:
        return False
    if any(mine and mine in (bot_id, event.get("user")) for mine in own):
        return False
    return bool((bot_id and bot_id in intake_bots) or (app_id and app_id in intake_bots))


MAX_TEXT_BLOCKS = 50  # a message holds at most 50 blocks (Slack's limit): read no more


def text_of(message: dict[str, Any]) -> str:
    """A message's text in Slack's wire form: `text`, or, when that is empty (a Workflow Builder post may
    carry its words only in `blocks`), the words of its blocks, one block a line."""
    text = message.get("text") or ""
    if text.strip():
        return text
    blocks = message.get("blocks") or []
    lines = (_block_text(block) for block in blocks[:MAX_TEXT_BLOCKS] if isinstance(block, dict))
    return clip_markup("\n".join(line for line in lines if line), TEXT_LIMIT)


def _wire(plain: str) -> str:
    """Rich text's plain words in Slack's wire form (the three entities escaped)."""
    return plain.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text_object(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    text = str(value.get("text") or "")
    return text if value.get("type") == "mrkdwn" else _wire(text)


def _rich(element: Any) -> str:
    if not isinstance(element, dict):
        return ""
    kind = element.get("type")
    if kind == "text":
        return _wire(str(element.get("text") or ""))
    if kind == "link":
        return (
            f"<{element.get('url', '')}|{_wire(str(element.get('text') or ''))}>"
            if element.get("text")
            else f"<{element.get('url', '')}>"
        )
    if kind == "user":
        return f"<@{element.get('user_id', '')}>"
    if kind == "channel":
        return f"<#{element.get('channel_id', '')}>"
    if kind == "usergroup":
        return f"<!subteam^{element.get('usergroup_id', '')}>"
    if kind == "emoji":
        return f":{element.get('name', '')}:"
    inner = element.get("elements") or []
    separator = "\n" if kind in ("rich_text_list", "rich_text") else ""
    return separator.join(_rich(child) for child in inner[: MAX_TEXT_BLOCKS * 4])


def _block_text(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind in ("section", "header"):
        parts = [_text_object(block.get("text"))]
        parts += [_text_object(field) for field in (block.get("fields") or [])[:10]]
        return "\n".join(part for part in parts if part)
    if kind == "context":
        return " ".join(_text_object(element) for element in (block.get("elements") or [])[:10])
    if kind == "rich_text":
        return _rich(block)
    return ""


def reporter_of(event: dict[str, Any]) -> str | None:
    """Who reports a bot-posted report: the first person its text mentions, else the bot's user, else the
    bot itself."""
    mention = _MENTION.search(text_of(event))
    if mention:
        return mention[1]
    return event.get("user") or posting_bot(event)[0]


def is_thread_reply(event: dict[str, Any]) -> bool:
    thread_ts = event.get("thread_ts")
    return bool(thread_ts) and thread_ts != event.get("ts")


def permalink(workspace_url: str | None, channel: str, ts: str) -> str | None:
    """Slack's permalink form (`<workspace>/archives/<channel>/p<ts without the dot>`), no API call needed."""
    if not workspace_url:
        return None
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def message_to_record(
    message: dict[str, Any],
    channel: str,
    tags: Tags,
    *,
    updated_at: str | None = None,
    url: str | None = None,
    previous: BugRecord | None = None,
) -> BugRecord:
    """The record of a top-level message; `previous` (the stored copy) keeps the thread activity.

    The text is kept as Slack sent it, up to TEXT_LIMIT characters (cut outside any markup, marked
    `text_truncated` with the full `text_length`; the record's url is the permalink to the whole message)."""
    ts = message["ts"]
    text = text_of(message)
    created_at = timestamp_from_epoch(ts)
    before = previous.attributes if previous else {}
    latest_reply = message.get("latest_reply") or before.get("last_activity")
    attributes = {
        "author": message.get("user") or before.get("author"),
        "text": clip_markup(text, TEXT_LIMIT),
        "channel": channel,
        "reply_count": max(int(message.get("reply_count") or 0), int(before.get("reply_count") or 0)),
        "last_activity": latest_reply or ts,
        "tags": [list(pair) for pair in tags.raw],
    }
    if len(text) > TEXT_LIMIT:
        attributes.update(text_truncated=True, text_length=len(text))
    if tags.problems:
        attributes["tag_problems"] = list(tags.problems)
    record = BugRecord(
        source_system="slack",
        record_id=ts,
        created_at=created_at,
        updated_at=updated_at or (previous.updated_at if previous else created_at),
        title=title_of(text),
        priority=tags.priority,
        priority_raw=tags.priority_raw,
        url=url or (previous.url if previous else None),
        attributes=attributes,
    )
    return bound_record(record)


# What a report deleted in Slack keeps (docs/slack.md, "Deleted messages"): who, where, when, and where it was
# filed; its words (text, title, tags, priority as typed, problems quoting them) are erased.
KEPT_WHEN_DELETED = ("author", "channel")


def erased(record: BugRecord, updated_at: str | None = None) -> BugRecord:
    """The copy of a Slack report to keep once it is deleted in Slack: id, channel, author, times, where it
    lives and its permalink (which names only the channel and the ts); no text, title or other attribute."""
    kept = {name: record.attributes[name] for name in KEPT_WHEN_DELETED if record.attributes.get(name)}
    return BugRecord(
        source_system="slack",
        record_id=record.record_id,
        created_at=record.created_at,
        updated_at=updated_at or record.updated_at,
        url=record.url,
        deleted=True,
        attributes=kept,
        ticket_id=record.ticket_id,
    )


def is_erased(record: BugRecord) -> bool:
    """True when nothing but what a deleted report keeps is left (an index row: no title, no priority)."""
    words = (record.title, record.priority, record.priority_raw, record.state)
    return not any(words) and set(record.attributes) <= set(KEPT_WHEN_DELETED)
