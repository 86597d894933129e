"""Outside text is data, never markup: the escaping, link and truncation helpers every renderer uses.

Slack's mrkdwn gives `&`, `<` and `>` a meaning: `<!channel>` pings a channel, `<url|label>` makes a link that
shows only its label. Text the bot did not write (a Slack message, a Zendesk subject a customer typed, a
Shortcut story name, a tag value, an error quoting what someone typed) therefore goes out only through
`escape()`, and the only link markup the bot writes is `link()` around a URL it built itself.

- `escape(plain)` -> mrkdwn that shows exactly that text (no ping, no link), control characters and bidi
  controls (U+202A-U+202E, U+2066-U+2069: they reorder what follows them) dropped.
- `inert(outside)` -> the same on one line, and unable to format: `*`, `_`, `~` and backticks become
  look-alikes that Slack does not read as marks (`∗ ˍ ∼ ˋ`). Every title, state, priority, name or quoted
  input placed in mrkdwn goes through it, so a Zendesk subject `x\n*Status of ZD-9* · state *done*` cannot
  pass for the bot's own lines; where Block Kit allows, outside text goes in `plain_text` objects instead.
- Reading Slack's wire text is the adapter's job: `slack_message.plain_from_slack(wire)` gives what a person
  reads (`<!channel>` -> `@channel`, `<url|label>` -> `label (url)`, entities decoded); the stored text stays
  as Slack sent it, and what is shown of it goes through `escape()` like any other outside string.
- `link(url, label)` -> `<url|label>` for an http(s) URL, the label escaped; a URL that could break out of
  the markup is refused (the escaped label alone).
- `truncate(mrkdwn, limit)` never cuts inside an entity (`&amp;`) or a `<…>` span; `truncate_plain` for text.
- `section` / `context` / `header` / `button` build Block Kit objects bounded to Slack's limits (3,000 chars a
  text object, 150 a header, 75 a button label); `fit_blocks` keeps a message to 50 blocks; `message_text`
  turns a plain fallback text into bounded, escaped mrkdwn for the `text` field of a post.

Every mrkdwn text object is sent with `verbatim: true`, so Slack does not "helpfully" turn plain words such as
`@here` or `#general` into mentions or links either.
"""

from __future__ import annotations

import re
from typing import Any

from adapters.slack_message import clip_markup
from bot.text_renderers import (
    printable,  # plain text for terminals; here for the renderers that import this module
)
from storage.bounds import clip

SECTION_LIMIT = 3000  # a text object (section text, context element)
HEADER_LIMIT = 150  # a header's plain_text
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
MAX_BLOCKS = 50  # blocks in one message
MESSAGE_TEXT_LIMIT = 40_000  # Slack truncates a message's `text` beyond this
FALLBACK_TEXT_LIMIT = 3000  # our `text` beside blocks: the notification / screen-reader fallback
ELLIPSIS = "…"

Block = dict[str, Any]

_SAFE_URL = re.compile(r"^https?://[^\s<>|\"'`]+$", re.IGNORECASE)
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")


# Slack has no escape for its marks: each becomes a look-alike that it does not read as one.
_MARKS = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})


def escape(text: object) -> str:
    """Plain text -> mrkdwn showing exactly that text: `&`, `<`, `>` become `&amp;`, `&lt;`, `&gt;`;
    control characters and bidi controls are dropped (bot/text_renderers.py `printable`)."""
    value = printable(text)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inert(text: object) -> str:
    """Outside text -> mrkdwn on one line that neither pings, links nor formats (see the module doc)."""
    return escape(" ".join(printable(text).split()).translate(_MARKS))


def is_safe_url(url: str | None) -> bool:
    return url is not None and _SAFE_URL.match(url) is not None


def link(url: str | None, label: object) -> str:
    """`<url|label>` for a URL the bot built (http/https only); otherwise the escaped label alone."""
    shown = inert(label) or escape(url)
    if not is_safe_url(url):
        return shown
    return f"<{escape(url)}|{shown}>"


def mention(user_id: object) -> str:
    """`<@U…>` for a Slack user id the bot was given by Slack (U/W + capitals and digits); anything else
    (`cli`, a typed --actor) is shown as escaped text. Never a group, channel or broadcast mention."""
    value = "" if user_id is None else str(user_id)
    return f"<@{value}>" if _SLACK_USER.match(value) else inert(value)


def bold(text: object) -> str:
    """`*text*`, inert inside; nothing at all for empty text (Slack shows a bare `**` literally)."""
    value = inert(text)
    return f"*{value}*" if value else ""


def code(text: object) -> str:
    value = escape(text).replace("`", "'")
    return f"`{value}`" if value else ""


def truncate(mrkdwn: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """At most `limit` characters of mrkdwn, ending with `ellipsis` when shortened; never cuts markup."""
    return clip_markup(mrkdwn, limit, ellipsis)


def truncate_plain(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """At most `limit` characters of plain text, ending with `ellipsis` when shortened."""
    return clip(text, limit, ellipsis)


def mrkdwn_text(mrkdwn: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    """A mrkdwn text object (never empty: Slack refuses an empty text)."""
    return {"type": "mrkdwn", "text": truncate(mrkdwn, limit) or " ", "verbatim": True}


def plain_text(text: object, limit: int) -> dict[str, Any]:
    value = truncate_plain(" ".join(printable(text).split()), limit)
    return {"type": "plain_text", "text": value or " "}


def section(mrkdwn: str) -> Block:
    """A section of already-escaped mrkdwn (build it with escape(), link(), bold())."""
    return {"type": "section", "text": mrkdwn_text(mrkdwn)}


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [mrkdwn_text(mrkdwn)]}


def header(text: object) -> Block:
    """A header of plain text (no escaping needed: plain_text is never markup)."""
    return {"type": "header", "text": plain_text(text, HEADER_LIMIT)}


def button(action_id: str, text: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": plain_text(text, BUTTON_TEXT_LIMIT),
        "value": printable(value)[:BUTTON_VALUE_LIMIT],
    }


def fit_blocks(blocks: list[Block], limit: int = MAX_BLOCKS) -> list[Block]:
    """At most `limit` blocks: beyond it the last kept block says how many were left out."""
    if len(blocks) <= limit:
        return blocks
    left_out = len(blocks) - (limit - 1)
    return [*blocks[: limit - 1], context(f"{left_out} more block(s) not shown")]


def message_text(plain: str, limit: int = FALLBACK_TEXT_LIMIT) -> str:
    """A post's `text` from plain text: escaped, bounded, never empty."""
    return truncate(escape(printable(plain)), min(limit, MESSAGE_TEXT_LIMIT)) or " "
