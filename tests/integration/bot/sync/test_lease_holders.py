"""Who holds a sync lease: named in the skip line, taken over at once when its process is gone on this
host, waited for with `wait`, and reported once (not every interval) by the bot's scheduled runs."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading

import pytest

from bot.config import load_config
from bot.sync import scheduler as scheduler_module
from bot.sync.lease import dead_here, holder_name, take_lease
from bot.sync.runner import run_sync
from tests.fakes.zendesk import FakeZendesk, zendesk_pull

HOST = socket.gethostname()


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def zendesk(monkeypatch):
    with FakeZendesk() as fake:
        fake.add_tickets(5)
        yield fake, zendesk_pull(fake, monkeypatch)


@pytest.fixture
def live_process():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


@pytest.fixture
def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_skip_line_names_the_holder_and_when_its_lease_frees(store, zendesk):
    fake, pull = zendesk
    assert store.acquire_lease("sync:zendesk", "build-7:4242:0a1b2c3d", 90)
    summary = run_sync(store, pull)
    assert summary.skipped and summary.holder == "build-7:4242"
    assert summary.line().startswith(
        f"zendesk: skipped, another sync of zendesk is running (build-7:4242; its lease frees at"
        f" {summary.lease_frees_at} unless renewed); --wait waits for it"
    )
    assert summary.lease_frees_at.endswith(" UTC") and fake.requests == []


def test_a_holder_on_this_host_whose_process_is_gone_is_taken_over_at_once(store, zendesk, dead_pid):
    _fake, pull = zendesk
    assert store.acquire_lease("sync:zendesk", f"{HOST}:{dead_pid}:deadbeef", 120)
    summary = run_sync(store, pull)
    assert not summary.skipped and summary.inserted == 5
    assert store.lease_holder("sync:zendesk") is None  # released at the end of the run


def test_a_live_holder_here_or_any_holder_elsewhere_is_respected(store, live_process, dead_pid):
    assert not dead_here(f"{HOST}:{live_process}:0a1b2c3d")
    assert not dead_here(f"another-host:{dead_pid}:0a1b2c3d")  # cannot tell: wait for the expiry
    assert not dead_here("not-an-owner-of-ours")
    assert dead_here(f"{HOST}:{dead_pid}:0a1b2c3d")
    assert store.acquire_lease("sync:zendesk", f"{HOST}:{live_process}:0a1b2c3d", 120)
    taken, held = take_lease(store, "sync:zendesk", "me", 120)
    assert not taken and holder_name(held.owner) == f"{HOST}:{live_process}"


def test_take_over_is_conditional_on_the_holder_read(store, dead_pid):
    assert store.acquire_lease("sync:zendesk", f"{HOST}:{dead_pid}:0a1b2c3d", 120)
    assert store.acquire_lease("sync:zendesk", "first", 120, take_over=f"{HOST}:{dead_pid}:0a1b2c3d")
    # a second runner that read the same dead holder does not take it from the first
    assert not store.acquire_lease("sync:zendesk", "second", 120, take_over=f"{HOST}:{dead_pid}:0a1b2c3d")
    assert store.lease_holder("sync:zendesk").owner == "first"


def test_wait_polls_until_the_lease_is_free(store, zendesk, live_process):
    _fake, pull = zendesk
    holder = f"{HOST}:{live_process}:0a1b2c3d"
    assert store.acquire_lease("sync:zendesk", holder, 60)
    freed = threading.Event()

    def release() -> None:
        freed.set()  # before the release: once the run holds the lease, this is set
        store.release_lease("sync:zendesk", holder)

    threading.Timer(0.6, release).start()
    told = []
    summary = run_sync(store, pull, wait=True, waiting=told.append, poll_seconds=0.1)
    assert freed.is_set()  # it ran once the holder let go (alive, it is never taken over), not before
    assert not summary.skipped and summary.inserted == 5
    assert [holder_name(lease.owner) for lease in told] == [f"{HOST}:{live_process}"]  # said once


def test_a_scheduled_run_says_the_lease_is_held_at_info_once(store, zendesk, caplog):
    _fake, pull = zendesk
    held_by: dict = {}
    seconds = load_config({}).sync.lease_seconds
    assert store.acquire_lease("sync:zendesk", "build-7:4242:0a1b2c3d", 90)
    with caplog.at_level(logging.DEBUG, logger="bot.sync"):
        for _ in range(3):
            assert scheduler_module._run(store, pull, seconds, held_by).skipped
        skips = [r for r in caplog.records if r.levelno >= logging.INFO and "skipped" in r.getMessage()]
        assert len(skips) == 1 and "build-7:4242" in skips[0].getMessage()
        store.release_lease("sync:zendesk", "build-7:4242:0a1b2c3d")
        assert not scheduler_module._run(store, pull, seconds, held_by).skipped
        assert store.acquire_lease("sync:zendesk", "build-8:99:0a1b2c3d", 90)
        scheduler_module._run(store, pull, seconds, held_by)
    skips = [r for r in caplog.records if r.levelno >= logging.INFO and "skipped" in r.getMessage()]
    assert len(skips) == 2 and "build-8:99" in skips[1].getMessage()
