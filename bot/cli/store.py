"""The PM's store commands: show, link, unlink, list, unlinked, top, stats, recount, init."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import tzinfo

from bot import flow, grammar, migrations, services, top
from bot.bootstrap import build_store, build_upstreams
from bot.cli.exit_codes import EXIT_OK
from bot.cli.help import examples
from bot.cli.progress import Progress
from bot.config import Config
from bot.text_renderers import (
    format_counts,
    format_drift,
    format_link,
    format_page,
    format_top,
    format_view,
    local_zone,
    printable,
    table,
)
from bot.tickets.link import link, operator, unlink
from storage.errors import NothingToLink, TicketNotFound
from storage.observed import ObservedStore
from storage.rules import MAX_PAGE
from storage.store import BugStore
from storage.values import Counts


def _emit(args: argparse.Namespace, value: object, text: str) -> None:
    if args.json:
        plain = asdict(value) if is_dataclass(value) and not isinstance(value, type) else value
        print(json.dumps(plain, indent=2))
    else:
        print(text)


def _zone(args: argparse.Namespace) -> tzinfo | None:
    """Times in the local zone (the columns name it), or UTC with --utc."""
    return None if getattr(args, "utc", False) else local_zone()


@contextmanager
def _naming(store: BugStore) -> Iterator[None]:
    """Found nothing: say where we looked, since the wrong store (directory, variable) is the usual reason."""
    try:
        yield
    except (TicketNotFound, NothingToLink) as exc:
        raise type(exc)(f"{exc} (looked in the {store.description})") from None


def _show(args: argparse.Namespace, config: Config) -> int:
    # `show ID deleted` as /bug takes it, or --include-deleted; `public` is Slack's (post in the channel)
    words = {grammar.SHOW_WORDS.get(word.lower(), word.lower()) for word in args.words}
    if not words <= {"deleted"}:
        odd = sorted(words - {"deleted"})[0]
        why = "posts in a Slack channel: it is /bug's" if odd == "public" else "is not a word show takes"
        raise services.UsageError(f"`{odd[:40]}` {why}; show takes ID [deleted]")
    store = build_store(config)
    with _naming(store):
        include_deleted = args.include_deleted or "deleted" in words
        view = services.show_ticket(store, args.ticket_id, include_deleted=include_deleted)
    _emit(args, view, format_view(view, zone=_zone(args)))
    return EXIT_OK


def _link(args: argparse.Namespace, config: Config) -> int:
    # a ticket no pull has stored yet is read from its system first: a typo (404) is refused
    upstreams = build_upstreams(config)
    store = build_store(config)
    times = flow.FlowLog(store)  # first report -> link, kept for `stats --flow` as the bot's links are
    observed = ObservedStore(store, lambda records: None, linked=times.linked)
    with _naming(store):
        result = link(observed, args.source_id, args.target_id, operator(args.actor), upstreams)
    times.flush()
    _emit(args, result, format_link("link", result))
    return EXIT_OK


def _unlink(args: argparse.Namespace, config: Config) -> int:
    result = unlink(build_store(config), args.ticket_id, operator(args.actor))
    _emit(args, result, format_link("unlink", result))
    return EXIT_OK


def _list(args: argparse.Namespace, config: Config) -> int:
    # the filters given combine, as the API's do; none: every bug. Words (`state open`) as `/bug list` takes
    # them, or options (`--state open`); one filter given both ways is a usage error.
    words, cursor = grammar.split_paging(args.filters)  # `… next CURSOR`, as a /bug page says
    if cursor and args.cursor:
        raise services.UsageError("the cursor is given twice (as --cursor and as next)")
    typed = grammar.parse_filters(words)
    for name in grammar.FILTER_WORDS:
        option = getattr(args, name)
        if option is not None:
            if name in typed:
                raise services.UsageError(f"{name} is given twice (as --{name} and as a word)")
            typed[name] = option
    chosen = {kind: typed.get(kind) for kind in services.LIST_KINDS}
    since, until = typed.get("since"), typed.get("until")
    request = services.check_list_request(chosen, since=since, until=until, required=False)
    limit = services.check_limit(args.limit, services.PAGE_SIZE, MAX_PAGE)
    store = build_store(config)
    page = services.list_bugs(store, request, cursor=args.cursor or cursor, limit=limit)
    empty = not page.records and not args.json
    text = printable(services.no_match(store, request)) if empty else format_page(page, _zone(args))
    _emit(args, page, text)
    return EXIT_OK


def _unlinked(args: argparse.Namespace, config: Config) -> int:
    limit = services.check_limit(args.limit, services.PAGE_SIZE, MAX_PAGE)
    store = build_store(config)
    page = services.unlinked_reports(store, cursor=args.cursor, limit=limit)
    none = f"no unlinked Slack reports in the {store.description}"
    text = format_page(page, _zone(args)) if page.records else none
    _emit(args, page, text)
    return EXIT_OK


def _delete(args: argparse.Namespace, config: Config) -> int:
    # at the shell, whoever holds the store's credentials decides (as for link)
    record = services.delete_report(build_store(config), args.report_id, args.actor, lambda _author: True)
    _emit(args, {"deleted": record.home_id}, f"deleted {record.home_id}: its words are erased from the store")
    return EXIT_OK


def _top(args: argparse.Namespace, config: Config) -> int:
    # at the shell, whoever holds the store's credentials reads everything (as for list)
    limit = top.check_top_limit(args.count)
    store = build_store(config)
    bugs = top.top_bugs(store, limit)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "ticket_id": bug.ticket_id,
                        "title": bug.title,
                        "state": bug.state,
                        "url": bug.url,
                        **asdict(bug.numbers),
                    }
                    for bug in bugs
                ],
                indent=2,
            )
        )
        return EXIT_OK
    print(format_top(bugs) if bugs else f"no open bugs in the {store.description}")
    return EXIT_OK


def _recount(args: argparse.Namespace, config: Config) -> int:
    args.recount = True
    return _stats(args, config)


def _total_hint(store: BugStore) -> int | None:
    """How many records a full pass reads, as the counters say (a bar's total; it may be off a little)."""
    counts = services.stats(store)
    return (counts.total + counts.deleted) or None


def _stats(args: argparse.Namespace, config: Config) -> int:
    store = build_store(config)
    if getattr(args, "flow", False):
        found = flow.summarise(store)
        if args.json:
            print(json.dumps([asdict(summary) for summary in found], indent=2))
        elif not found:
            print("no flow times kept in the last 30 days (links and done stories seen by the bot)")
        else:
            names = {"link": "first report -> link", "done": "link -> done"}
            rows = [
                (names[row.kind], row.group, row.count, flow.duration(row.median), flow.duration(row.p90))
                for row in found
            ]
            print("Flow times, last 30 days\n" + table(("FLOW", "PRIORITY", "N", "MEDIAN", "P90"), rows))
        return EXIT_OK
    if args.recount:
        progress = Progress(total=_total_hint(store))
        try:
            drift = services.recount(store, advance=progress.advance)
        finally:
            progress.close()
        counts = services.stats(store)
        if args.json:
            print(json.dumps({"drift": drift, "counts": asdict(counts)}, indent=2))
        else:
            print(format_drift(drift))
            print(_counts_text(store, counts))
        return EXIT_OK
    counts = services.stats(store)
    _emit(args, counts, _counts_text(store, counts))
    return EXIT_OK


def _counts_text(store: BugStore, counts: Counts) -> str:
    if counts.total or counts.deleted:
        return format_counts(counts)
    return f"no bugs are stored yet in the {store.description}"


def _migrate(args: argparse.Namespace, config: Config) -> int:
    """Bring an existing store to the current schema (idempotent, resumable: run it again after a stop).
    Its step lines and bar go to stderr: stdout is the answer alone (`--json` stays JSON)."""
    store = build_store(config)
    local = not config.store.dynamodb_table or bool(config.store.dynamodb_endpoint)
    progress = Progress(total=_total_hint(store))
    try:
        store.migrate(progress=progress.line, manage_indexes=local, advance=progress.advance)
        migrations.erase_deleted_reports(store, progress=progress.line)
    finally:
        progress.close()
    _emit(args, {"store": store.description, "migrated": True}, f"migrated: {store.description}")
    return EXIT_OK


def _init(args: argparse.Namespace, config: Config) -> int:
    ids_only = getattr(args, "ids_only", False)
    if config.store.dynamodb_table and not config.store.dynamodb_endpoint and not ids_only:
        raise services.UsageError(
            "init creates the table only on a local endpoint (set AWS_ENDPOINT_URL_DYNAMODB);"
            " on AWS the table is managed by terraform/ (`init --ids-only` moves records stored under"
            " non-canonical ids there)"
        )
    store = build_store(config)
    if ids_only:
        store.check()
    else:
        store.init()
    moved = migrations.canonicalize_ids(store, actor="init")
    lines = [f"ready: {store.description}"]
    lines += [f"moved {count} record(s) from {old} to {new}" for old, new, count in moved]
    value = {
        "store": store.description,
        "ready": True,
        "canonicalized": [{"from": old, "to": new, "moved": count} for old, new, count in moved],
    }
    _emit(args, value, "\n".join(lines))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    show = sub.add_parser(
        "show",
        help="every record under a ticket id (following links)",
        epilog=examples(
            "bugtracker show ZD-12345",
            "bugtracker show sl-1732712345.123456       # ids in any case; an alias shows its target",
            "bugtracker show ZD-12345 --include-deleted --json",
        ),
    )
    show.add_argument("ticket_id", help="ZD-<digits>, SC-<digits> or SL-<slack ts>")
    show.add_argument(
        "words", nargs="*", metavar="deleted", help="also records deleted upstream, as /bug takes it"
    )
    show.add_argument("--include-deleted", action="store_true", help="also show records deleted upstream")
    show.set_defaults(handler=_show)

    link = sub.add_parser(
        "link",
        help="move a report's records under another ticket id",
        epilog=examples("bugtracker link SL-1732712345.123456 ZD-12345 --actor ann"),
    )
    link.add_argument("source_id")
    link.add_argument("target_id")
    link.add_argument("--actor", default="cli", help="who is linking (kept in the audit trail)")
    link.set_defaults(handler=_link)

    unlink = sub.add_parser(
        "unlink",
        help="undo a link: records go back under their own id",
        epilog=examples("bugtracker unlink SL-1732712345.123456 --actor ann"),
    )
    unlink.add_argument("ticket_id")
    unlink.add_argument("--actor", default="cli")
    unlink.set_defaults(handler=_unlink)

    listing = sub.add_parser(
        "list",
        help="bugs, newest first: all of them, or by priority, state and source (filters combine)",
        epilog=examples(
            "bugtracker list                                  # every bug, 20 a page",
            "bugtracker list --state solved --source zendesk  # filters combine; any case",
            "bugtracker list state reported                   # Slack reports (as /bug list takes it)",
            "bugtracker list --priority p1 --since 2026-11-01 --until 2026-11-30",
            "bugtracker list --source slack --limit 100 --cursor <the cursor a page printed>",
        ),
    )
    listing.add_argument(
        "filters",
        nargs="*",
        metavar="FILTER VALUE",
        help="the same filters as words, as /bug list takes them: state In Progress source shortcut",
    )
    listing.add_argument(
        "--priority", help="Critical, High, Medium, Low (or urgent/normal, P0-P4, sev1-sev4)"
    )
    listing.add_argument("--state", help="a state name in any case: new, open, solved, In Progress, ...")
    listing.add_argument("--source", help="slack, zendesk or shortcut")
    unlinked = sub.add_parser(
        "unlinked",
        help="Slack reports not linked to a ticket yet",
        epilog=examples("bugtracker unlinked", "bugtracker unlinked --limit 50 --json"),
    )
    for parser in (listing, unlinked):
        parser.add_argument("--limit", default=str(services.PAGE_SIZE), help=f"rows per page (1-{MAX_PAGE})")
        parser.add_argument("--cursor", help="the next-page cursor a previous page printed")
    listing.add_argument("--since", help="created on or after this date (YYYY-MM-DD)")
    listing.add_argument("--until", help="created on or before this date (YYYY-MM-DD)")
    listing.set_defaults(handler=_list)
    unlinked.set_defaults(handler=_unlinked)

    delete = sub.add_parser(
        "delete",
        help="remove a Slack report: its words are erased (as when it is deleted in Slack)",
        epilog=examples("bugtracker delete SL-1732712345.123456 --actor ann"),
    )
    delete.add_argument("report_id", help="SL-<slack ts>")
    delete.add_argument("--actor", default="cli", help="who is deleting (logged)")
    delete.set_defaults(handler=_delete)

    stats = sub.add_parser(
        "stats",
        help="counts by priority, state and source",
        epilog=examples(
            "bugtracker stats",
            "bugtracker stats --recount        # a full pass; a progress bar on a terminal",
            "bugtracker stats --json | jq .by_state",
            "bugtracker stats --flow           # first report -> link, link -> done: medians, p90",
        ),
    )
    stats.add_argument(
        "--recount", action="store_true", help="count every record again and correct the kept counters"
    )
    stats.add_argument(
        "--flow",
        action="store_true",
        help="medians and 90th percentiles of first report -> link and link -> done, last 30 days",
    )
    stats.set_defaults(handler=_stats)
    ranked = sub.add_parser(
        "top",
        help="open bugs ranked by impact: people, reports and tickets behind each (docs/impact.md)",
        epilog=examples("bugtracker top", "bugtracker top 20", "bugtracker top --json | jq '.[0]'"),
    )
    ranked.add_argument(
        "count", nargs="?", help=f"how many bugs (1-{top.MAX_TOP}, default {top.DEFAULT_TOP})"
    )
    ranked.set_defaults(handler=_top)
    sub.add_parser(
        "recount",
        help="count every record again: correct the counters and each bug's impact (as stats --recount)",
        epilog=examples("bugtracker recount", "bugtracker recount --json"),
    ).set_defaults(handler=_recount)
    sub.add_parser(
        "migrate",
        help="bring an existing table to the current schema: sparse indexes (local endpoint; on AWS"
        " `terraform apply`), their keys on every record, the counters (idempotent, resumable)",
        epilog=examples(
            "bugtracker migrate                # steps and a progress bar on stderr",
            "DYNAMODB_TABLE=BugTracker bugtracker migrate --json",
        ),
    ).set_defaults(handler=_migrate)
    init = sub.add_parser(
        "init",
        help="create the SQLite store (or the table, on a local endpoint); move records stored under"
        " non-canonical ids (ZD-0042 -> ZD-42)",
        epilog=examples(
            "bugtracker init                   # ./bugtracker.db, or BUGTRACKER_DB",
            "bugtracker --db ~/bugs/team.db init",
            "DYNAMODB_TABLE=BugTracker bugtracker init --ids-only   # on AWS",
        ),
    )
    init.add_argument(
        "--ids-only",
        action="store_true",
        help="only move records stored under non-canonical ids (works on AWS, where terraform/ owns"
        " the table)",
    )
    init.set_defaults(handler=_init)
