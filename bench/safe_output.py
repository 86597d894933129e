"""Benchmark: what safe output and bounded records cost (bot/slack/mrkdwn.py, storage/bounds.py).

Side by side, per item, best of three runs:
  mapping   adapters.zendesk.ticket_to_record with and without storage.bounds.bound_record (ordinary
            tickets: the fast path), and bound_record alone on an oversized ticket (the cutting path)
  rendering bot.slack.blocks.build_show_reply(...).payload() for a ticket of 20 records, plain titles vs
            hostile ones (markup in every title and state)
  the 40,000-char tag-dense logfmt paste: parse, map, bound, reply; its record's size and its reply's length

Run: .venv/bin/python -m bench.safe_output [--tickets 20000] [--views 2000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import adapters.zendesk as zendesk
from adapters.slack_message import message_to_record, parse_tags
from bot.slack.blocks import build_intake_reply, build_show_reply
from bot.slack.intake import IntakeResult
from storage.bounds import bound_record, record_bytes
from storage.values import TicketView
from tests.support.builders import logfmt_dump

USERS = {5: {"id": 5, "name": "Ann", "email": "ann@example.com"}, 6: {"id": 6, "name": "Bob", "email": None}}
HOSTILE = "<!channel> <https://evil.example|Zendesk ZD-777> &lt;!here&gt; & <@U1>"


def ticket(n: int, subject: str | None = None, tags: int = 3) -> dict:
    return {"id": n, "subject": subject or f"Checkout fails on step {n} for some customers", "status": "open",
            "priority": "high", "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-02T10:00:00Z",
            "generated_timestamp": 1764300000 + n, "requester_id": 5, "assignee_id": 6,
            "tags": [f"tag{k}" for k in range(tags)], "type": "problem", "group_id": 1}  # fmt: skip


def best_us(work: Callable[[], None], count: int) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best * 1e6 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--views", type=int, default=2000)
    args = parser.parse_args()

    tickets = [ticket(n) for n in range(1, args.tickets + 1)]
    bounded = best_us(lambda: [zendesk.ticket_to_record(t, USERS, "acme") for t in tickets], len(tickets))
    original, zendesk.bound_record = zendesk.bound_record, lambda record: record
    try:
        raw = best_us(lambda: [zendesk.ticket_to_record(t, USERS, "acme") for t in tickets], len(tickets))
        huge = zendesk.ticket_to_record(ticket(1, "S" * 500_000, tags=20_000), USERS, "acme")
    finally:
        zendesk.bound_record = original
    cut = best_us(lambda: bound_record(huge), 1)
    print(f"mapping a ticket: {raw:.1f} us unbounded | {bounded:.1f} us bounded (x{bounded / raw:.2f})")
    print(f"bounding an oversized ticket ({record_bytes(huge) / 1024:.0f} KB): {cut / 1000:.1f} ms"
          f" -> {record_bytes(bound_record(huge)) / 1024:.1f} KB")  # fmt: skip

    def view(title: str) -> TicketView:
        records = tuple(
            zendesk.ticket_to_record(ticket(n, f"{title} {n}"), USERS, "acme") for n in range(1, 21)
        )
        return TicketView("ZD-1", "ZD-1", ("ZD-1",), records, ())

    plain, hostile = view("Checkout fails"), view(HOSTILE)
    plain_us = best_us(lambda: [build_show_reply(plain).payload() for _ in range(args.views)], args.views)
    hostile_us = best_us(lambda: [build_show_reply(hostile).payload() for _ in range(args.views)], args.views)
    print(f"rendering /bug show of 20 records: {plain_us:.0f} us plain | {hostile_us:.0f} us hostile")

    text = logfmt_dump(40_000)
    started = time.perf_counter()
    tags = parse_tags(text)
    record = message_to_record({"ts": "1764300000.000001", "text": text, "user": "U1"}, "C1", tags)
    reply = build_intake_reply(
        IntakeResult("message", record.home_id, record.home_id, problems=tags.problems)
    )
    elapsed = (time.perf_counter() - started) * 1000
    payload = reply.payload()
    size = record_bytes(record) / 1024
    print(f"40,000-char logfmt paste: {elapsed:.1f} ms to parse, map and answer; record {size:.1f} KB"
          f" (text kept {len(record.attributes['text'])} chars); reply text {len(payload['text'])} chars,"
          f" {len(payload['blocks'])} block(s)")  # fmt: skip


if __name__ == "__main__":
    main()
