"""Benchmark the Zendesk + Shortcut sync against the local fakes and a moto server endpoint (DynamoDB).

    .venv/bin/python -m bench.sync_backfill [--tickets 10000] [--stories 5000] [--memory-sizes 10000,50000]

Prints: requests made vs the minimum pages, record writes (DynamoDB write calls and items), wall time for
the backfill, a 0% and a 1% changed re-sync (half of it system updates that move only Zendesk's
generated_timestamp), one comparison of Shortcut's recheck (counts by creation window), and a naive
"fetch all, put each" baseline in the same run; then the peak memory (max RSS) of a real `bugtracker sync`
process at each size. The backfill at the rate limits: bench/sync_rate_limit.py.

The fakes behave like the services: Zendesk's after_url keeps per_page but not include, so pages after the
first come without sideloaded users and the pull looks names up with users/show_many (CUSTOMERS distinct
requesters); stories carry a Severity value before their Priority value (one GET /custom-fields).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from bench._support import moto_server
from bot.sync.recheck import recheck_key
from bot.sync.runner import run_sync
from tests.fakes.shortcut import (
    PRIORITY_FIELD_ID,
    SEVERITY_FIELD_ID,
    FakeShortcut,
    field_value,
    shortcut_pull,
)
from tests.fakes.zendesk import FakeZendesk, point_zenpy_at, zendesk_pull

WRITE_CALLS = ("PutItem", "BatchWriteItem", "UpdateItem", "DeleteItem", "TransactWriteItems")
CUSTOMERS = 3000  # distinct requesters across the tickets (agents: 7)
SEVERITIES, PRIORITIES = ("Critical", "High", "Medium", "Low"), ("Highest", "High", "Medium", "Low")


def add_tickets(zendesk: FakeZendesk, count: int) -> None:
    for ticket_id in range(1, count + 1):
        requester = 100_000 + ticket_id % CUSTOMERS
        if requester not in zendesk.users:
            zendesk.add_user(requester)
        zendesk.add_ticket(ticket_id, requester_id=requester)


class _Env:
    """monkeypatch.setenv for a script."""

    def setenv(self, name: str, value: str) -> None:
        os.environ[name] = value


class WriteCounter:
    def __init__(self, client) -> None:
        self.calls = 0
        self.items = 0
        client.meta.events.register("before-parameter-build.dynamodb", self)

    def __call__(self, params, model, **_kwargs) -> None:
        if model.name not in WRITE_CALLS or "#lease" in str(params):
            return
        self.calls += 1
        if model.name == "BatchWriteItem":
            self.items += sum(len(batch) for batch in params.get("RequestItems", {}).values())
        else:
            self.items += 1


def moto_store(endpoint: str):
    import boto3

    from storage.dynamodb import DynamoDBStore

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    store = DynamoDBStore(client, f"bench-{uuid.uuid4().hex[:8]}")
    store.init()
    return store, WriteCounter(client)


def measure(label, store, counter, fakes, sources, **options):
    before = (counter.calls, counter.items, [len(fake.requests) for fake in fakes])
    show_many_before = fakes[0].count("/users/show_many")
    started = time.perf_counter()
    summaries = [run_sync(store, source, **options) for source in sources]
    seconds = time.perf_counter() - started
    requests = sum(len(fake.requests) for fake in fakes) - sum(before[2])
    fetched = sum(summary.fetched for summary in summaries)
    changed = sum(summary.inserted + summary.updated for summary in summaries)
    rechecked = sum(summary.rechecked for summary in summaries)
    print(
        f"{label:<28} {seconds:7.1f}s  requests {requests:5d}"
        f" (show_many {fakes[0].count('/users/show_many') - show_many_before})  fetched {fetched:6d}"
        f"  inserted+updated {changed:6d}  rechecked {rechecked:4d}"
        f"  write calls {counter.calls - before[0]:5d}  items written {counter.items - before[1]:6d}"
    )
    for summary in summaries:
        assert summary.error is None, summary.error
    return seconds


def naive(label, store, counter, fakes, sources):
    """Fetch everything again from the start, then put each record (no batching, no change check)."""
    from storage.dynamodb_items import record_item

    before = (counter.calls, [len(fake.requests) for fake in fakes])
    started = time.perf_counter()
    for source in sources:
        records = [record for page in source.pull(None, full=True) for record in page.records]
        for record in records:  # one unconditional PutItem per record, under its home id
            store.port.put(record_item(record, record.home_id))
    seconds = time.perf_counter() - started
    requests = sum(len(fake.requests) for fake in fakes) - sum(before[1])
    print(f"{label:<28} {seconds:7.1f}s  requests {requests:5d}  write calls {counter.calls - before[0]:5d}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--stories", type=int, default=5_000)
    parser.add_argument("--memory-sizes", default="10000,50000")
    parser.add_argument("--memory-store", choices=("dynamodb", "sqlite"), default="dynamodb")
    # moto 5 deep-copies the whole table for every action of a transaction, so each auto-link (two
    # transactions) costs O(table) there, not on DynamoDB: no linked stories unless asked for.
    parser.add_argument("--linked-every", type=int, default=0, help="every Nth story links a Zendesk ticket")
    args = parser.parse_args()
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        os.environ.setdefault(name, value)
    with moto_server() as endpoint:
        with FakeZendesk() as zendesk, FakeShortcut() as shortcut:
            add_tickets(zendesk, args.tickets)
            for story_id in range(1, args.stories + 1):
                links = (
                    [f"https://acme.zendesk.com/agent/tickets/{story_id}"]
                    if args.linked_every and story_id % args.linked_every == 0
                    else []
                )
                fields = [
                    field_value(SEVERITY_FIELD_ID, SEVERITIES[story_id % 4]),
                    field_value(PRIORITY_FIELD_ID, PRIORITIES[story_id // 4 % 4]),
                ]
                shortcut.add_story(
                    story_id, step=timedelta(hours=3), external_links=links, custom_fields=fields
                )
            zd, sc = zendesk_pull(zendesk, _Env(), budget=300), shortcut_pull(shortcut)
            fakes, sources = (zendesk, shortcut), (zd, sc)
            minimum = math.ceil(args.tickets / 1000) + math.ceil(args.stories / 250) + 2
            users = min(CUSTOMERS, args.tickets) + 7
            print(f"{args.tickets} Zendesk tickets + {args.stories} Shortcut stories -> moto at {endpoint}")
            print(
                f"minimum requests for the backfill: {minimum} (1000-ticket and 250-story pages, /workflows,"
                f" /custom-fields) + at most {math.ceil(users / 100)} users/show_many ({users} users)"
            )
            store, counter = moto_store(endpoint)
            backfill = measure("backfill", store, counter, fakes, sources)
            measure("re-sync, 0% changed", store, counter, fakes, sources)
            for ticket_id in range(1, args.tickets + 1, 100):
                zendesk.touch(ticket_id, status="solved")
            for ticket_id in range(51, args.tickets + 1, 100):
                zendesk.system_update(ticket_id, status="closed")  # only generated_timestamp moves
            for story_id in range(1, args.stories + 1, 100):
                shortcut.touch(story_id, name="renamed")
            changed = measure("re-sync, 1% changed", store, counter, fakes, sources)
            solved = store.get_record("zendesk", "51")
            assert solved.state == "closed", "a system update was not stored"
            for story_id in range(2, args.stories + 1, 50):
                shortcut.delete(story_id)
            store.put_meta(recheck_key(sc), {"last": 0})  # a comparison is due: counts, then the reads
            measure("recheck (count comparison)", store, counter, fakes, (sc,))
            base_store, base_counter = moto_store(endpoint)
            naive_backfill = naive("naive backfill", base_store, base_counter, fakes, sources)
            naive_resync = naive("naive re-sync (1% changed)", base_store, base_counter, fakes, sources)
            print(
                f"backfill: sync {backfill:.1f}s vs naive {naive_backfill:.1f}s;"
                f" re-sync: sync {changed:.1f}s vs naive {naive_resync:.1f}s"
            )
        for size in [int(size) for size in args.memory_sizes.split(",") if size]:
            print(
                f"peak RSS of `bugtracker sync --source zendesk`, {size} tickets:"
                f" {peak_rss(size, endpoint, args.memory_store):.0f} MB"
            )


def peak_rss(tickets: int, endpoint: str, store: str = "dynamodb") -> float:
    """Max RSS (MB) of a real sync process backfilling `tickets` Zendesk tickets into the moto table."""
    import subprocess

    with FakeZendesk() as zendesk:
        add_tickets(zendesk, tickets)
        env = dict(os.environ)
        point_zenpy_at(zendesk, _EnvDict(env))
        env.update(
            ZENDESK_SUBDOMAIN=zendesk.subdomain,
            ZENDESK_EMAIL=zendesk.email,
            ZENDESK_API_TOKEN=zendesk.token,
            AWS_ENDPOINT_URL_DYNAMODB=endpoint,
            AWS_DEFAULT_REGION="us-east-1",
            DYNAMODB_TABLE=f"bench-{uuid.uuid4().hex[:8]}",
            LOG_LEVEL="WARNING",
        )
        env.pop("SHORTCUT_API_TOKEN", None)
        if store == "sqlite":
            import tempfile

            env.pop("DYNAMODB_TABLE")
            env["BUGTRACKER_DB"] = str(Path(tempfile.mkdtemp()) / "bench.db")
        bugtracker = str(Path(sys.executable).with_name("bugtracker"))
        subprocess.run([bugtracker, "init"], env=env, check=True, capture_output=True)
        process = subprocess.Popen(
            [bugtracker, "sync", "--source", "zendesk"], env=env, stdout=subprocess.DEVNULL
        )
        return _peak_rss_mb(process)


def _peak_rss_mb(process) -> float:
    """The child's own high-water mark (VmHWM), polled until it exits.

    Not wait4's ru_maxrss: the child is forked from this (large) benchmark process, and ru_maxrss also
    counts the parent's pages the child shared between fork and exec; VmHWM starts afresh at exec.
    """
    peak_kb = 0
    status_file = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            for line in status_file.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kb = max(peak_kb, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass  # exited between poll() and the read
        time.sleep(0.02)
    assert process.returncode == 0, f"bugtracker sync exited {process.returncode}"
    return peak_kb / 1024


class _EnvDict:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def setenv(self, name: str, value: str) -> None:
        self.env[name] = value


if __name__ == "__main__":
    main()
