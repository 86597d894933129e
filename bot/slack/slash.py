"""`/bug ...`: parse the text into a Command, dispatch it to the services, render a Reply.

Unknown or malformed commands answer with the usage; expected errors (bad id, link refused, not found)
answer with their one-line message. Anything else is a bug and goes to the one global error handler.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import grammar, services, top
from bot.metrics.registry import COMMAND_LATENCY
from bot.slack import blocks
from bot.slack.impact_blocks import build_top_reply
from bot.slack.readers import EVERYTHING, ReaderScope, channel_of
from bot.tickets.create import create_ticket, created_note
from bot.tickets.link import ActorOf, link, operator, readable_report, unlink
from bot.tickets.upstreams import Upstreams
from storage.errors import BugTrackerError
from storage.model import parse_ticket_id
from storage.store import BugStore

if TYPE_CHECKING:
    from bot.slack.readers import Readers

USAGE = (
    "Usage:\n"
    + grammar.usage(grammar.SLACK, "/bug")
    + "\nA list's next page: the same command with `next CURSOR` (the page says which)."
)

NAMES = grammar.names(grammar.SLACK)
_ARITY = {
    "show": (1, 1),
    "link": (2, 2),
    "create": (2, 2),
    "unlink": (1, 1),
    "delete": (1, 1),
    "unlinked": (0, 0),
    "stats": (0, 0),
    "top": (0, 1),
    "help": (0, 1),
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
    raw, cursor = grammar.split_paging((text or "").split())
    words = [word for word in (word.strip(_PUNCTUATION) for word in raw) if word]
    if words and words[0].lower() == "/bug":  # the console passes the whole line
        words = words[1:]
    if not words:
        return Command("help")
    name, args = words[0].lower(), words[1:]
    if name not in NAMES:
        raise CommandUsageError(str(grammar.unknown_verb(name, grammar.SLACK)))
    if cursor is not None and name not in ("list", "unlinked"):
        raise CommandUsageError(f"`{name}` has no pages.")
    public = include_deleted = False
    options = {grammar.SHOW_WORDS.get(word.lower(), word.lower()) for word in args[1:]}
    if name == "show" and options and options <= {"public", "deleted"} and len(args) <= 3:
        public, include_deleted, args = "public" in options, "deleted" in options, args[:1]
    if name == "list":  # alone: every bug; filters as words or options (bot/grammar.py)
        try:
            filters = grammar.parse_filters(args)
        except grammar.GrammarError as exc:
            raise CommandUsageError(str(exc)) from None
        return Command(name, tuple(word for pair in filters.items() for word in pair), cursor=cursor)
    low, high = _ARITY[name]
    if not low <= len(args) <= high:
        raise CommandUsageError(f"`{name}` takes {low if low == high else f'{low}-{high}'} argument(s).")
    return Command(name, tuple(args), public=public, cursor=cursor, include_deleted=include_deleted)


def dispatch(
    store: BugStore,
    text: str | None,
    user: str,
    readers: Readers | None = None,
    channel: str | None = None,
    upstreams: Upstreams | None = None,
    actor_of: ActorOf | None = None,
) -> blocks.Reply:
    """Run one `/bug` command for `user`, typed in `channel`; always returns a Reply, never raises our own
    errors. `readers` (bot/slack/readers.py) decides what the person may see and whether they may link;
    None: everything (the console, an operator). `upstreams`: the systems `create` creates in and `link`
    reads an unseen ticket from. `actor_of`: who may link, when not `readers` (tests, the console)."""
    started = time.perf_counter()
    label = "invalid"
    try:
        command = parse_command(text)
        label = command.name
        who = actor_of or (readers.actor if readers is not None else operator)
        return _run(store, command, user, who, readers, channel, upstreams)
    except CommandUsageError as exc:
        return blocks.build_error_reply(str(exc), USAGE)
    except BugTrackerError as exc:
        return blocks.build_error_reply(str(exc))
    finally:
        COMMAND_LATENCY.labels(label).observe(time.perf_counter() - started)


def _run(
    store: BugStore,
    command: Command,
    user: str,
    actor_of: ActorOf,
    readers: Readers | None,
    channel: str | None,
    upstreams: Upstreams | None = None,
) -> blocks.Reply:
    name, args = command.name, command.args
    if name == "help":
        return blocks.build_text_reply(_help(args[0] if args else None))
    if name == "delete":
        actor = actor_of(user)
        if parse_ticket_id(args[0]).startswith("SL-"):  # else delete_report says what it deletes
            readable_report(store, args[0], actor)
        may = actor.linker or not actor.linkers_named
        record = services.delete_report(store, args[0], user, lambda author: author == user or may)
        return blocks.build_text_reply(f"Deleted {record.home_id}: its words are erased from the store.")
    if name == "link":  # the one link path and its rule: bot/tickets/link.py
        return blocks.build_link_reply("link", link(store, args[0], args[1], actor_of(user), upstreams))
    if name == "unlink":
        return blocks.build_link_reply("unlink", unlink(store, args[0], actor_of(user)))
    scope = readers.scope(user) if readers is not None else EVERYTHING
    if not scope.reads_any:
        assert readers is not None
        return blocks.build_text_reply(readers.refusal())
    if name == "show":
        return _show(store, command, scope, readers, channel)
    if name == "create":  # the console's way; in Slack, `/bug create` opens the modal
        readable_report(store, args[1], actor_of(user))
        actor = actor_of(user)
        may_create = actor.linker or not actor.linkers_named
        created = create_ticket(store, upstreams or Upstreams(), args[0], args[1], user, lambda _: may_create)
        return blocks.build_text_reply(created_note(created))
    if name == "list":
        typed = dict(zip(args[::2], args[1::2], strict=True))
        request = services.check_list_request(
            {kind: typed.get(kind) for kind in grammar.FILTER_KINDS},
            since=typed.get("since"),
            until=typed.get("until"),
            option="",
            required=False,
        )
        page = services.list_bugs(store, request, cursor=command.cursor, visible=_visible(scope))
        dates = (("since", request.since), ("until", request.until))
        asked = " ".join(f"{kind} {value}" for kind, value in (*request.filters, *dates) if value)
        more = " ".join(filter(None, ("/bug list", asked, "next", page.next_cursor)))
        return blocks.build_page_reply(f"Bugs with {asked}" if asked else "Bugs, newest first", page, more)
    if name == "top":
        bugs = top.top_bugs(store, top.check_top_limit(args[0] if args else None), _channels(scope))
        return build_top_reply(bugs)
    if name == "unlinked":
        page = services.unlinked_reports(store, cursor=command.cursor, visible=_visible(scope))
        more = f"/bug unlinked next {page.next_cursor}"
        return blocks.build_page_reply("Slack reports not linked to a ticket", page, more)
    if readers is not None and not scope.everything and set(readers.channels) - scope.channels:
        return blocks.build_text_reply(
            "`stats` counts the reports of every bug channel, and you read only"
            f" {readers.channel_names(sorted(scope.channels))}: ask someone who reads them all."
        )
    return blocks.build_stats_reply(services.stats(store))  # numbers only: for readers of every bug channel


def _channels(scope: ReaderScope) -> frozenset[str] | None:
    """The bug channels whose reports the person reads (None: everything, the console)."""
    return None if scope.everything else scope.channels


def _help(verb: str | None) -> str:
    if verb is None:
        return USAGE
    known = {v.name: v for v in grammar.verbs(grammar.SLACK)}
    if verb.lower() not in known:
        raise CommandUsageError(str(grammar.unknown_verb(verb, grammar.SLACK)))
    chosen = known[verb.lower()]
    words = f" {chosen.words}" if chosen.words else ""
    return f"`/bug {chosen.name}{words}` — {chosen.summary}"


def _visible(scope: ReaderScope) -> Callable[[object], bool] | None:
    return None if scope.everything else scope.may_read


def _show(
    store: BugStore, command: Command, scope: ReaderScope, readers: Readers | None, channel: str | None
) -> blocks.Reply:
    view = services.show_ticket(store, command.args[0], include_deleted=command.include_deleted)
    shown, unreadable = scope.view(view)
    if unreadable and not shown.records:
        assert readers is not None
        where = sorted({c for r in view.records if (c := channel_of(r)) is not None}) or None
        return blocks.build_text_reply(
            f"You need to be in {readers.channel_names(where)} to see {view.requested_id}."
        )
    note = None
    public = command.public
    if public and readers is not None:
        problem = readers.public_problem(channel, shown.records)
        if problem is not None:
            public, note = False, f"Shown only to you: {problem}"
    return blocks.build_show_reply(shown, public=public, unreadable=unreadable, note=note)
