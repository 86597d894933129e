"""`bugtracker create shortcut|zendesk SL-…`: create a Shortcut story or Zendesk ticket from a stored
Slack report and link the report under it (the same verb as Slack's Create button and `/bug create`)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any

from bot import services
from bot.bootstrap import build_store, build_upstreams
from bot.cli.exit_codes import EXIT_OK
from bot.cli.help import examples
from bot.config import Config
from bot.tickets.create import create_ticket, created_note, prefill
from bot.tickets.link import report_of
from storage.model import PRIORITIES, normalize_priority


def _create(args: argparse.Namespace, config: Config) -> int:
    store = build_store(config)
    upstreams = build_upstreams(config)
    upstreams.creator(args.system)  # off, or not configured: say so before reading anything else
    draft = prefill(report_of(store, args.report_id))
    changes: dict[str, Any] = {}  # TicketDraft's fields
    if args.title:
        changes["title"] = args.title
    if args.priority:
        priority = normalize_priority(args.priority)
        if priority not in PRIORITIES:
            raise services.UsageError(f"--priority takes one of {', '.join(PRIORITIES)}")
        changes["priority"] = priority
    if args.no_priority:
        changes["priority"] = None
    if args.type:
        changes["ticket_type"] = args.type
    if args.requester:
        if "@" not in args.requester:
            raise services.UsageError("--requester takes an email address")
        changes["requester_email"] = args.requester
    if args.state is not None:
        changes["workflow_state_id"] = args.state
    draft = replace(draft, **changes)
    created = create_ticket(
        store, upstreams, args.system, args.report_id, args.actor, lambda _user: True, draft=draft
    )
    value = {
        "report": created.report_id,
        "ticket": created.ticket_id,
        "system": created.system,
        "url": created.url,
        "found_again": created.found_again,
    }
    if args.json:
        print(json.dumps(value, indent=2))
    else:
        print(created_note(created))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    create = sub.add_parser(
        "create",
        help="create a Shortcut story or Zendesk ticket from a Slack report and link the report to it",
        epilog=examples(
            "bugtracker create shortcut SL-1732712345.123456",
            "bugtracker create zendesk SL-1732712345.123456 --type incident --requester ann@example.com",
        ),
    )
    create.add_argument("system", choices=("shortcut", "zendesk"))
    create.add_argument("report_id", help="the Slack report, SL-<slack ts>")
    create.add_argument("--title", help="instead of the report's title")
    create.add_argument("--priority", help="Critical, High, Medium or Low (default: the report's tag)")
    create.add_argument("--no-priority", action="store_true", help="set no priority")
    create.add_argument("--type", choices=("problem", "incident"), help="Zendesk: the ticket type (problem)")
    create.add_argument("--requester", help="Zendesk: the requester's email (default: the API user)")
    create.add_argument(
        "--state", type=int, help="Shortcut: a workflow state id (default: the first unstarted state)"
    )
    create.add_argument("--actor", default="cli", help="who is creating (kept in the audit trail)")
    create.set_defaults(handler=_create)
