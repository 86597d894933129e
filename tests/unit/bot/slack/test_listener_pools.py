"""The App's listener executor: events on one pool, interactive payloads on the other, so a burst of one
never leaves the other without a thread."""

from __future__ import annotations

import threading

from bot.slack.app import ListenerPools


def ran_on(pools: ListenerPools, body: dict[str, object]) -> str:
    pools.mark(body)  # what the middleware does on the thread that then submits the listener
    return pools.submit(lambda: threading.current_thread().name).result(timeout=10)


def test_events_and_interactive_payloads_run_on_their_own_pools() -> None:
    pools = ListenerPools(events=1, interactive=1)
    try:
        assert ran_on(pools, {"type": "event_callback", "event": {"type": "message"}}).startswith(
            "slack-events"
        )
        assert ran_on(pools, {"command": "/bug", "text": "help"}).startswith("slack-interactive")
        assert ran_on(pools, {"type": "block_actions"}).startswith("slack-interactive")
        assert ran_on(pools, {"type": "message_action"}).startswith("slack-interactive")
    finally:
        pools.shutdown()


def test_a_full_event_pool_leaves_the_interactive_pool_free() -> None:
    pools = ListenerPools(events=1, interactive=1)
    release = threading.Event()
    try:
        pools.mark({"type": "event_callback", "event": {}})
        stuck = [pools.submit(release.wait, 10) for _ in range(5)]  # every event thread busy, more queued
        assert ran_on(pools, {"command": "/bug"}).startswith("slack-interactive")  # still served at once
        release.set()
        assert all(future.result(timeout=10) for future in stuck)
    finally:
        release.set()
        pools.shutdown()
