"""The PM's store commands: show, link, unlink, list, unlinked, stats, init."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from bot import services
from bot.bootstrap import build_store
from bot.cli.exit_codes import EXIT_OK
from bot.config import Config
from bot.text import format_counts, format_drift, format_link, format_page, format_view
from storage.rules import MAX_PAGE


def _emit(args: argparse.Namespace, value: object, text: str) -> None:
    if args.json:
        print(json.dumps(asdict(value) if hasattr(value, "__dataclass_fields__") else value, indent=2))
    else:
        print(text)


def _show(args: argparse.Namespace, config: Config) -> int:
    view = services.show_ticket(build_store(config), args.ticket_id, include_deleted=args.include_deleted)
    _emit(args, view, format_view(view))
    return EXIT_OK


def _link(args: argparse.Namespace, config: Config) -> int:
    result = services.link_tickets(build_store(config), args.source_id, args.target_id, args.actor)
    _emit(args, result, format_link("link", result))
    return EXIT_OK


def _unlink(args: argparse.Namespace, config: Config) -> int:
    result = services.unlink_ticket(build_store(config), args.ticket_id, args.actor)
    _emit(args, result, format_link("unlink", result))
    return EXIT_OK


def _list(args: argparse.Namespace, config: Config) -> int:
    chosen = {kind: getattr(args, kind) for kind in services.LIST_KINDS if getattr(args, kind)}
    if len(chosen) != 1:
        raise services.UsageError("list takes exactly one of --priority, --state, --source")
    request = services.check_list_request(chosen, since=args.since, until=args.until)
    limit = services.check_limit(args.limit, services.PAGE_SIZE, MAX_PAGE)
    page = services.list_bugs(build_store(config), request, cursor=args.cursor, limit=limit)
    _emit(args, page, format_page(page))
    return EXIT_OK


def _unlinked(args: argparse.Namespace, config: Config) -> int:
    limit = services.check_limit(args.limit, services.PAGE_SIZE, MAX_PAGE)
    page = services.unlinked_reports(build_store(config), cursor=args.cursor, limit=limit)
    _emit(args, page, format_page(page))
    return EXIT_OK


def _stats(args: argparse.Namespace, config: Config) -> int:
    store = build_store(config)
    if args.recount:
        drift = services.recount(store)
        counts = services.stats(store)
        if args.json:
            print(json.dumps({"drift": drift, "counts": asdict(counts)}, indent=2))
        else:
            print(format_drift(drift))
            print(format_counts(counts))
        return EXIT_OK
    counts = services.stats(store)
    _emit(args, counts, format_counts(counts))
    return EXIT_OK


def _migrate(args: argparse.Namespace, config: Config) -> int:
    """Bring an existing store to the current schema (idempotent, resumable: run it again after a stop)."""
    store = build_store(config)
    local = not config.store.dynamodb_table or bool(config.store.dynamodb_endpoint)
    store.migrate(progress=lambda line: print(line, flush=True), manage_indexes=local)
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
    moved = services.canonicalize_ids(store, actor="init")
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
    show = sub.add_parser("show", help="every record under a ticket id (following links)")
    show.add_argument("ticket_id", help="ZD-<digits>, SC-<digits> or SL-<slack ts>")
    show.add_argument("--include-deleted", action="store_true", help="also show records deleted upstream")
    show.set_defaults(handler=_show)

    link = sub.add_parser("link", help="move a report's records under another ticket id")
    link.add_argument("source_id")
    link.add_argument("target_id")
    link.add_argument("--actor", default="cli", help="who is linking (kept in the audit trail)")
    link.set_defaults(handler=_link)

    unlink = sub.add_parser("unlink", help="undo a link: records go back under their own id")
    unlink.add_argument("ticket_id")
    unlink.add_argument("--actor", default="cli")
    unlink.set_defaults(handler=_unlink)

    listing = sub.add_parser("list", help="bugs by priority, state or source, newest first")
    listing.add_argument(
        "--priority", help="Critical, High, Medium, Low (or urgent/normal, P0-P4, sev1-sev4)"
    )
    listing.add_argument("--state", help="a state name: new, open, solved, In Progress, ...")
    listing.add_argument("--source", help="slack, zendesk or shortcut")
    for parser in (listing, sub.add_parser("unlinked", help="Slack reports not linked to a ticket yet")):
        parser.add_argument("--limit", default=str(services.PAGE_SIZE), help=f"rows per page (1-{MAX_PAGE})")
        parser.add_argument("--cursor", help="the next-page cursor a previous page printed")
    listing.add_argument("--since", help="created on or after this date (YYYY-MM-DD)")
    listing.add_argument("--until", help="created on or before this date (YYYY-MM-DD)")
    listing.set_defaults(handler=_list)
    sub.choices["unlinked"].set_defaults(handler=_unlinked)

    stats = sub.add_parser("stats", help="counts by priority, state and source")
    stats.add_argument(
        "--recount", action="store_true", help="count every record again and correct the kept counters"
    )
    stats.set_defaults(handler=_stats)
    sub.add_parser(
        "migrate",
        help="bring an existing table to the current schema: sparse indexes (local endpoint; on AWS"
        " `terraform apply`), their keys on every record, the counters (idempotent, resumable)",
    ).set_defaults(handler=_migrate)
    init = sub.add_parser(
        "init",
        help="create the table (local endpoint) or the SQLite schema; move records stored under"
        " non-canonical ids (ZD-0042 -> ZD-42)",
    )
    init.add_argument(
        "--ids-only",
        action="store_true",
        help="only move records stored under non-canonical ids (works on AWS, where terraform/ owns"
        " the table)",
    )
    init.set_defaults(handler=_init)
