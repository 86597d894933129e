"""What Slack would parse as markup in a payload the bot sent (chat.postMessage args, a response_url body).

`live_markup(payload, allowed_links)` lists every `<…>` span Slack would act on — a ping (`<!channel>`,
`<!here>`, `<!everyone>`, `<!subteam^…>`, `<@U…>`), a channel link (`<#C…>`) or a link to a URL that does not
start with one of `allowed_links` — in the message `text` and in every mrkdwn text object of the blocks;
plain_text objects are never parsed by Slack, so they are not looked at. `unverbatim_objects` lists the
mrkdwn objects without `verbatim: true` (Slack would auto-link words in them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

_SPAN = re.compile(r"<([^<>]*)>")


def mrkdwn_objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            yield value
        for child in value.values():
            yield from mrkdwn_objects(child)
    elif isinstance(value, list):
        for child in value:
            yield from mrkdwn_objects(child)


def mrkdwn_strings(payload: dict[str, Any]) -> list[str]:
    strings = [payload["text"]] if isinstance(payload.get("text"), str) else []
    blocks = payload.get("blocks") or []
    if isinstance(blocks, str):  # form-encoded posts carry blocks as JSON text
        import json

        blocks = json.loads(blocks)
    return strings + [obj.get("text", "") for obj in mrkdwn_objects(blocks)]


def live_markup(payload: dict[str, Any], allowed_links: Sequence[str] = ()) -> list[str]:
    found = []
    for text in mrkdwn_strings(payload):
        for span in _SPAN.findall(text):
            target = span.split("|", 1)[0]
            if target[:1] in "!@#" or not any(target.startswith(prefix) for prefix in allowed_links):
                found.append(f"<{span}>")
    return found


def unverbatim_objects(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [obj for obj in mrkdwn_objects(payload.get("blocks") or []) if obj.get("verbatim") is not True]
