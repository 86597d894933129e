"""`/bug ...`: parse the text into a Command, dispatch it to the services, render a Reply.

Unknown or malformed commands answer with the usage; expected errors (bad id, link refused, not found)
answer with their one-line message. Anything else is a bug and goes to the one global error handler.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot import services
from bot.metrics.registry import COMMAND_LATENCY
from bot.slack import blocks
from storage.errors import BugTrackerError
from storage.store import BugStore

USAGE = """Usage:
`/bug show ID [deleted] [public]` — every record under a ticket (ZD-123, SC-45, SL-<ts>); `deleted`: also
those deleted upstream; `public`: post in channel
`/bug link SOURCE TARGET` — move SOURCE's records under TARGET (e.g. `/bug link SL-1732712345.123456 ZD-123`)
`/bug unlink ID` — undo a link
`/bug list priority|state|source VALUE` — e.g. `/bug list priority High`, `/bug list source zendesk`
`/bug unlinked` — Slack reports not linked to a ticket yet
`/bug stats` — counts by priority and source
`/bug help` — this message"""

NAMES = ("show", "link", "unlink", "list", "unlinked", "stats", "help")
_ARITY = {
    "show": (1, 1),
    "link": (2, 2),
    "unlink": (1, 1),
    "unlinked": (0, 0),
    "stats": (0, 0),
    "help": (0, 0),
}
_PUNCTUATION = "`*_~\"'.,;:!?()[]<>"


class CommandUsageError(BugTrackerError):
    """The text is not a command we know, or its arguments do not fit."""


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...] = ()
    public: bool = False
    cursor: str | None = None  # next page of list / unlinked
    include_deleted: bool = False  # show: records deleted upstream too


def parse_command(text: str | None) -> Command:
    raw = (text or "").split()
    cursor = None
    if len(raw) >= 2 and raw[-2].strip(_PUNCTUATION).lower() == "next":
        # a page cursor is opaque (base64: `-` and `_` are part of it): keep it exactly as given
        cursor, raw = raw[-1].strip("`"), raw[:-2]
    words = [word for word in (word.strip(_PUNCTUATION) for word in raw) if word]
    if words and words[0].lower() == "/bug":  # the console passes the whole line
        words = words[1:]
    if not words:
        return Command("help")
    name, args = words[0].lower(), words[1:]
    if name not in NAMES:
        raise CommandUsageError(f"I do not know `{name[:40]}`.")
    if cursor is not None and name not in ("list", "unlinked"):
        raise CommandUsageError(f"`{name}` has no pages.")
    public = include_deleted = False
    options = {word.lower() for word in args[1:]}
    if name == "show" and options and options <= {"public", "deleted"} and len(args) <= 3:
        public, include_deleted, args = "public" in options, "deleted" in options, args[:1]
    if name == "list":
        if len(args) < 2:
            raise CommandUsageError("`list` needs what to list by and a value, e.g. `list priority High`.")
        return Command(name, (args[0].lower(), " ".join(args[1:])), cursor=cursor)
    low, high = _ARITY[name]
    if not low <= len(args) <= high:
        raise CommandUsageError(f"`{name}` takes {low if low == high else f'{low}-{high}'} argument(s).")
    return Command(name, tuple(args), public=public, cursor=cursor, include_deleted=include_deleted)


def dispatch(
    store: BugStore, text: str | None, user: str, may_link: Callable[[str], bool] | None = None
) -> blocks.Reply:
    """Run one `/bug` command for `user`; always returns a Reply, never raises our own errors."""
    started = time.perf_counter()
    label = "invalid"
    try:
        command = parse_command(text)
        label = command.name
        return _run(store, command, user, may_link or (lambda _user: True))
    except CommandUsageError as exc:
        return blocks.build_text_reply(f"{exc}\n{USAGE}")
    except BugTrackerError as exc:
        return blocks.build_text_reply(str(exc))
    finally:
        COMMAND_LATENCY.labels(label).observe(time.perf_counter() - started)


def _run(store: BugStore, command: Command, user: str, may_link: Callable[[str], bool]) -> blocks.Reply:
    name, args = command.name, command.args
    if name == "help":
        return blocks.build_text_reply(USAGE)
    if name == "show":
        view = services.show_ticket(store, args[0], include_deleted=command.include_deleted)
        return blocks.build_show_reply(view, public=command.public)
    if name in ("link", "unlink"):
        if not may_link(user):
            return blocks.build_text_reply(
                f"Sorry, you may not {name} tickets here: only the people and groups in BUG_LINKERS may."
            )
        if name == "link":
            return blocks.build_link_reply("link", services.link_tickets(store, args[0], args[1], user))
        return blocks.build_link_reply("unlink", services.unlink_ticket(store, args[0], user))
    if name == "list":
        request = services.normalize_list_request(args[0], args[1])
        page = services.list_bugs(store, request, cursor=command.cursor)
        more = f"/bug list {request.kind} {request.value} next {page.next_cursor}"
        return blocks.build_page_reply(f"Bugs with {request.kind} {request.value}", page, more)
    if name == "unlinked":
        page = services.unlinked_reports(store, cursor=command.cursor)
        more = f"/bug unlinked next {page.next_cursor}"
        return blocks.build_page_reply("Slack reports not linked to a ticket", page, more)
    return blocks.build_stats_reply(services.stats(store))
