"""Nothing acked is lost, end to end: the bot as a process (real SocketModeHandler) on the fake Slack, on
both stores. The store is cut while reports arrive (DynamoDB: moto's server behind a TCP proxy that is
stopped; SQLite: another process holds the write lock); the bot is killed with SIGKILL mid-burst; two bot
processes share one store and one Slack app. Every report ends up stored once and answered at most once."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.slack.watermark import key
from storage.dynamodb import DynamoDBStore
from storage.sqlite import SqliteStore
from tests.fakes.slack_server import FakeSlack
from tests.support import processes
from tests.support.metrics_scrape import scrape
from tests.support.processes import child_env, start_entry_point
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
BURST = 20
CHANNEL = "C0BUGS"
SWEEP = 15  # SLACK_SWEEP_SECONDS in these tests
PAIR_SWEEP = 5  # the two-instance test's: it waits on whole sweeps of both, and nothing in it is paced


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["sqlite", "dynamodb"])
def backend(request, tmp_path):
    """(store as the test reads it, env for the bot, proxy or None)."""
    if request.param == "sqlite":
        path = tmp_path / "bugs.db"
        store = SqliteStore(path)
        store.init()
        yield store, {"BUGTRACKER_DB": str(path)}, None
        return
    import boto3

    endpoint = request.getfixturevalue("moto_server")
    parts = urlsplit(endpoint)
    proxy = TcpProxy(parts.hostname, parts.port).start()
    table = f"bugs-{uuid.uuid4().hex[:8]}"
    store = DynamoDBStore(boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1"), table)
    store.init()
    env = {"AWS_ENDPOINT_URL_DYNAMODB": proxy.url, "DYNAMODB_TABLE": table, "AWS_MAX_ATTEMPTS": "2"}
    yield store, env, proxy
    proxy.stop()


def start_bot(fake, workdir: Path, env: dict, name: str = "bot", **extra: str) -> subprocess.Popen:
    variables = {**dict(SLACK_BOT_TOKEN="xoxb-test-token", SLACK_APP_TOKEN="xapp-test-token",
                        SLACK_CHANNEL_ID=CHANNEL, SLACK_API_URL=fake.api_url, SLACK_SWEEP_SECONDS=str(SWEEP),
                        SLACK_STATUS_UPDATES="off"), **env, **extra}  # fmt: skip
    log = (workdir / f"{name}.log").open("a")
    seen = fake.connected_total
    bot = start_entry_point(
        "bot", cwd=workdir, env=child_env(**variables), stdout=log, stderr=subprocess.STDOUT
    )
    fake.wait_for(lambda: fake.connected_total > seen, timeout=30)
    return bot


def stop_bot(bot: subprocess.Popen, workdir: Path, name: str = "bot") -> str:
    if bot.poll() is None:
        processes.stop_bot(bot)  # killed if it does not stop within the bound
    output = (workdir / f"{name}.log").read_text()
    assert "xoxb-test-token" not in output and "xapp-test-token" not in output
    return output


def wait_started(store) -> None:
    """Until the bot's first start in the channel is saved (reports before it are not its to answer)."""
    wait_until(lambda: (store.get_meta(key(CHANNEL)) or {}).get("start"), timeout=30, interval=0.2)


def stored(store, messages) -> list[str]:
    return [m["ts"] for m in messages if store.get_record("slack", m["ts"]) is not None]


def sweeps(workdir: Path, name: str) -> int:
    """How many sweeps of the bug channel the bot `name` has finished (its log says so at the end of each)."""
    return len(re.findall(rf"sweep {CHANNEL}: [0-9]+ message", (workdir / f"{name}.log").read_text()))


def answers(fake) -> Counter:
    return Counter(post.get("thread_ts") for post in fake.posts)


def healthz(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as answer:
        return answer.code, json.loads(answer.read())


class Outage:
    """The store out of reach: the proxy stopped (DynamoDB) or the write lock held by another process
    (SQLite)."""

    def __init__(self, store, proxy: TcpProxy | None, workdir: Path) -> None:
        self.store, self.proxy, self.workdir = store, proxy, workdir
        self.holder: subprocess.Popen | None = None

    def __enter__(self) -> Outage:
        if self.proxy is not None:
            self.proxy.stop()
            return self
        script = (
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "c.execute('COMMIT')\n"
        )
        self.holder = subprocess.Popen(
            [__import__("sys").executable, "-c", script, self.store.path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.holder.stdout.readline().strip() == "locked"
        return self

    def __exit__(self, *_: object) -> None:
        if self.proxy is not None:
            self.proxy.start()
            return
        assert self.holder is not None
        self.holder.stdin.write("\n")
        self.holder.stdin.flush()
        self.holder.wait(timeout=10)


def test_reports_posted_while_the_store_is_cut_are_stored_once_within_one_sweep(backend, tmp_path):
    store, env, proxy = backend
    metrics_port = free_port()
    with FakeSlack() as fake:
        bot = start_bot(fake, tmp_path, env, METRICS_PORT=str(metrics_port))
        try:
            wait_started(store)
            before = [fake.post(CHANNEL, f"before the cut {n} priority=High")[0] for n in range(5)]
            wait_until(lambda: len(stored(store, before)) == 5, timeout=20)
            during = []
            with Outage(store, proxy, tmp_path):
                cut_at = time.monotonic()
                for n in range(20):
                    during.append(fake.post(CHANNEL, f"during the cut {n} priority=Low")[0])
                    time.sleep(0.3)  # the scenario: reports spread over the outage, not a wait to assert
                status, body = wait_until(lambda: (h := healthz(metrics_port))[0] == 503 and h, timeout=20)
                assert body["store"] != "ok" and body["status"] == "unhealthy"
                pending = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
                assert pending["bugtracker_intake_pending"][()] > 0
                # the scenario's outage, not a wait to assert: 12 s at least, so the retries have backed off
                time.sleep(max(0.0, 12 - (time.monotonic() - cut_at)))
            sweeps_before = fake.calls.count("conversations.history")
            wait_until(lambda: len(stored(store, during)) == 20, timeout=3 * SWEEP + 30, interval=0.2)
            # within one sweep (counted in the sweeps' history reads, not in seconds a loaded machine
            # stretches): the retry queue's writes, or the first sweep after the store is back; a sweep may
            # have been under way when it came back
            assert fake.calls.count("conversations.history") - sweeps_before <= 2
            wait_until(lambda: healthz(metrics_port)[0] == 200, timeout=20)
            assert store.counts().by_source["slack"] == 25
            # the answers follow at Slack's pace (about one a second): a bound, not a speed target
            wait_until(lambda: len(answers(fake)) == 25, timeout=SWEEP + 45)
            assert set(answers(fake).values()) == {1}  # each report answered once
            metrics = f"http://127.0.0.1:{metrics_port}/metrics"
            wait_until(lambda: scrape(metrics)["bugtracker_intake_pending"][()] == 0, timeout=10)
            assert scrape(metrics)["bugtracker_slack_sweep_last_success_timestamp_seconds"][()] > 0
        finally:
            output = stop_bot(bot, tmp_path)
    assert "Traceback" not in output, output


def test_a_bot_killed_mid_burst_loses_nothing_after_a_restart(backend, tmp_path):
    store, env, _ = backend
    with FakeSlack() as fake:
        bot = start_bot(fake, tmp_path, env)
        wait_started(store)
        # 20: every report is stored at the store's speed within a second, so the kill (after 10 answers,
        # paced at Slack's 1 a second) always finds about half the answers still queued; each answer after
        # the restart costs a second of Slack's pace, so a larger burst only makes the test longer
        burst = [fake.post(CHANNEL, f"burst {n}")[0] for n in range(BURST)]
        wait_until(lambda: len(fake.posts) >= 10, timeout=20, interval=0.005)  # answers: cheap to watch
        bot.kill()  # SIGKILL mid-burst: envelopes acked, work in flight, the queued answers, all gone
        bot.wait(timeout=10)
        # stored at the store's speed, answered at Slack's pace: the kill lands with answers still queued
        assert len(answers(fake)) < BURST, "every answer was posted before the kill; nothing was tested"
        late = [fake.message(CHANNEL, f"while down {n}") for n in range(5)]  # history only
        bot = start_bot(fake, tmp_path, env)
        try:
            wait_until(lambda: len(stored(store, burst + late)) == BURST + 5, timeout=60, interval=0.5)
            assert store.counts().by_source["slack"] == BURST + 5
            # the sweep re-derives the answers the killed process had queued: every report answered once
            everyone = {message["ts"] for message in burst + late}
            wait_until(lambda: everyone <= set(answers(fake)), timeout=300, interval=0.5)
            assert max(answers(fake).values()) == 1  # answered once, never twice
        finally:
            stop_bot(bot, tmp_path)


def test_two_bot_processes_answer_each_report_once(backend, tmp_path):
    store, env, _ = backend
    with FakeSlack() as fake:
        fake.spread = True  # envelopes go round both connections, as Slack spreads them
        sweep = PAIR_SWEEP
        first = start_bot(fake, tmp_path, env, name="first", SLACK_SWEEP_SECONDS=str(sweep))
        try:
            wait_started(store)
            second = start_bot(fake, tmp_path, env, name="second", SLACK_SWEEP_SECONDS=str(sweep))
            try:
                fake.wait_for(lambda: len(fake.connections) == 2, timeout=20)
                reports = []
                for n in range(10):
                    message, _ = fake.post(CHANNEL, f"report {n} priority=Medium")
                    fake.push_event({**message, "channel": CHANNEL}, retry_attempt=1)  # to the other one
                    reports.append(message)
                tagged = fake.message(CHANNEL, "tag me later")
                history_only = [fake.message(CHANNEL, f"history only {n}") for n in range(5)]  # both sweep
                fake.message(CHANNEL, "ticketId=ZD-31337", thread_ts=tagged["ts"])
                everything = reports + history_only + [tagged]
                wait_until(lambda: len(stored(store, everything)) == 16, timeout=sweep + 25, interval=0.2)
                wait_until(lambda: store.resolve(f"SL-{tagged['ts']}")[-1] == "ZD-31337", timeout=sweep + 25)
                wait_until(lambda: len(answers(fake)) == 16, timeout=20)
                # both sweep again, twice each (the first may have been under way already), so one whole
                # sweep of each ran after every report was answered: nothing new, nothing answered twice
                done = {name: sweeps(tmp_path, name) for name in ("first", "second")}
                wait_until(
                    lambda: all(sweeps(tmp_path, name) >= count + 2 for name, count in done.items()),
                    timeout=3 * sweep + 40,
                    interval=0.5,
                )
                counts = answers(fake)
                assert all(counts[m["ts"]] == 1 for m in reports + history_only), counts
                assert counts[tagged["ts"]] <= 2  # the report's answer and the link's, each once
            finally:
                stop_bot(second, tmp_path, "second")
        finally:
            stop_bot(first, tmp_path, "first")
