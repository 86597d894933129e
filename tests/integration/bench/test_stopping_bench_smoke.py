"""The stopping benchmark's own run at a tiny size, so bench/stopping.py cannot rot unnoticed (its timings
are not checked here; the e2e test holds the bound)."""

from __future__ import annotations

import pytest

from bench.stopping import one_stop

pytestmark = pytest.mark.slow


def test_one_stop_measures_an_exit() -> None:
    took, forced = one_stop(burst=0)
    assert took > 0 and forced is False  # idle, the graceful path ends it
