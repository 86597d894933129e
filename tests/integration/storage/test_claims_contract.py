"""Claims (BugStore.claim, bot/slack/claims.py) on both stores: once-only across owners and threads, taken
over after expiry, given back on a failed action."""

import threading

import pytest

from bot.slack.claims import Claims


def test_a_claim_is_granted_once_whoever_asks(store):
    first, second = Claims(store, owner="host:1:a"), Claims(store, owner="host:2:b")
    assert first.once("answer:C1:SL-1:message:1") is True
    assert first.once("answer:C1:SL-1:message:1") is False  # the same owner too: it is once
    assert second.once("answer:C1:SL-1:message:1") is False
    assert second.once("answer:C1:SL-1:edit:2") is True


def test_an_expired_claim_is_taken_over(store):
    now = [1000.0]
    store.clock = lambda: now[0]
    assert Claims(store, owner="a", ttl_seconds=10).once("x") is True
    now[0] += 9
    assert Claims(store, owner="b", ttl_seconds=10).once("x") is False
    now[0] += 1
    assert Claims(store, owner="b", ttl_seconds=10).once("x") is True


def test_threads_racing_for_one_claim_get_it_once(store):
    winners = []
    barrier = threading.Barrier(8)

    def race(n):
        barrier.wait()
        if Claims(store, owner=f"racer-{n}").once("status:ZD-1:42"):
            winners.append(n)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def test_a_failed_action_gives_the_claim_back(store):
    claims = Claims(store, owner="a")

    def fails():
        raise RuntimeError("Slack refused")

    with pytest.raises(RuntimeError):
        claims.run_once("answer:x", fails)
    assert claims.run_once("answer:x", lambda: "posted") == "posted"
    assert Claims(store, owner="b").run_once("answer:x", lambda: "again") is None
