"""Wait on a condition, never for a fixed time: poll until it holds, fail with a message when it does not."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.01) -> T:
    """The first truthy value of `condition()`; AssertionError after `timeout` seconds without one.

    `timeout` bounds a failure, never a success: a met condition returns at once, so the default is generous
    enough for a loaded machine (processes starting, threads scheduled late)."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
    return value
