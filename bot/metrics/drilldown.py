"""The read-only JSON behind Grafana's drill-down tables (Infinity data source): rows, never metric labels.

Ticket ids as Prometheus labels would make one time series per ticket; here a table panel asks for the
rows it shows, when it shows them. Every row carries the link to its page in the source system.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot import services
from bot.top import check_top_limit, top_bugs
from storage.bounds import clip
from storage.model import BugRecord
from storage.store import BugStore
from storage.values import TicketView

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def record_row(record: BugRecord) -> dict[str, Any]:
    return {
        "ticket_id": record.location,
        "home_id": record.home_id,
        "source": record.source_system,
        "record_id": record.record_id,
        "title": record.title,
        "priority": record.priority or "none",
        "state": record.state,
        "state_type": record.state_type,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "deleted": record.deleted,
        "url": record.url,  # the record's page in Zendesk / Shortcut / Slack (as the adapters built it)
        "linked": record.location != record.home_id,
    }


def _blank_is_none(query: Mapping[str, str], name: str) -> str | None:
    # Grafana sends `priority=` when a variable is set to "All": that means "no filter".
    value = (query.get(name) or "").strip()
    return value or None


QUERY_PARAMETERS = {*services.LIST_KINDS, "since", "until", "cursor", "limit"}


def list_bugs(store: BugStore, query: Mapping[str, str]) -> dict[str, Any]:
    """`/api/bugs?priority=&state=&source=&since=&until=&cursor=&limit=`: newest first, one page.

    The filters get the same check as `bugtracker list` and `/bug list` (services.check_list_request), the
    cursor the stores' one decoder (storage/paging.py): anything wrong is a UsageError -> HTTP 400."""
    unknown = sorted(set(query) - QUERY_PARAMETERS)
    if unknown:
        raise services.UsageError(
            f"cannot list by '{clip(unknown[0], 40)}'; list by {', '.join(services.LIST_KINDS)}, since, until"
        )
    filters = {kind: query.get(kind) for kind in services.LIST_KINDS}
    since, until = _blank_is_none(query, "since"), _blank_is_none(query, "until")
    # no filter (every variable on "All"): every bug, newest first, as `bugtracker list` and `/bug list`
    request = services.check_list_request(filters, since=since, until=until, option="", required=False)
    limit = services.check_limit(_blank_is_none(query, "limit"), DEFAULT_LIMIT, MAX_LIMIT)
    page = services.list_bugs(store, request, cursor=_blank_is_none(query, "cursor"), limit=limit)
    return {"bugs": [record_row(record) for record in page.records], "next_cursor": page.next_cursor}


def top(store: BugStore, query: Mapping[str, str]) -> dict[str, Any]:
    """`/api/top?limit=`: the open bugs ranked by impact (bot/top.py), one read of the ranked index. The API
    token's holder reads everything, as at the shell."""
    limit = check_top_limit(_blank_is_none(query, "limit"))
    rows = []
    for rank, bug in enumerate(top_bugs(store, limit), start=1):
        numbers = bug.numbers
        rows.append(
            {
                "rank": rank,
                "ticket_id": bug.ticket_id,
                "title": bug.title,
                "state": bug.state,
                "url": bug.url,
                "reports": numbers.reports,
                "tickets": numbers.tickets,
                "people": numbers.people,
                "customers": numbers.customers,
                "priority": numbers.priority or "none",
                "first_seen": f"{numbers.first_hour}:00:00Z" if numbers.first_hour else None,
            }
        )
    return {"bugs": rows}


def ticket(store: BugStore, ticket_id: str) -> dict[str, Any]:
    """`/api/tickets/<id>`: every record under the ticket (following links), and its pages per source."""
    view: TicketView = services.show_ticket(store, ticket_id, include_deleted=True)
    links: dict[str, list[str]] = {}
    for record in view.records:
        if record.url:
            links.setdefault(record.source_system, []).append(record.url)
    return {
        "requested_id": view.requested_id,
        "ticket_id": view.ticket_id,
        "alias_chain": list(view.alias_chain),
        "links": links,
        "records": [record_row(record) for record in view.records],
        "audit": [
            {"action": e.action, "from_id": e.from_id, "to_id": e.to_id, "actor": e.actor, "at": e.at}
            for e in view.audit
        ],
    }
