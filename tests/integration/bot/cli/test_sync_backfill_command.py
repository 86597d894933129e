"""`bugtracker sync` on a backfill the rate limit stops: exit 0, "backfill continues", no failure counted;
`--until-done` runs it to the end. In process, against the fake Zendesk enforcing its export limit."""

from __future__ import annotations

import time

import pytest

from bot import cli
from bot.metrics import registry
from tests.fakes.zendesk import EXPORT_PATH, FakeZendesk


@pytest.fixture
def limited(sqlite_store, monkeypatch):
    # the export's 10 a minute, scaled down: 2 pages a second
    with FakeZendesk(rate_limits={"export": (2, 1.0)}) as fake:
        fake.add_tickets(2500)  # three pages of 1000
        for name, value in {
            "ZENDESK_SUBDOMAIN": fake.subdomain,
            "ZENDESK_EMAIL": fake.email,
            "ZENDESK_API_TOKEN": fake.token,
            "ZENPY_FORCE_SCHEME": "http",
            "ZENPY_FORCE_NETLOC": fake.netloc,
            "BUGTRACKER_DB": str(sqlite_store.path),
        }.items():
            monkeypatch.setenv(name, value)
        yield fake


def _failures() -> float:
    return registry.REGISTRY.get_sample_value("bugtracker_sync_failures_total", {"source": "zendesk"}) or 0.0


def test_a_rate_limited_backfill_exits_0_and_says_it_continues(limited, sqlite_store, monkeypatch, capsys):
    monkeypatch.setenv("SYNC_RATELIMIT_BUDGET_SECONDS", "1")
    limited.limiters["export"].window = 30.0  # page 3 would wait ~30 s: past the budget
    failures = _failures()
    assert cli.execute(["sync", "--source", "zendesk"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("zendesk: fetched 2000, inserted 2000,")
    assert line.endswith("; backfill continues: 2000 of about 2500")
    assert _failures() == failures


def test_until_done_waits_on_the_limit_and_runs_to_the_end(limited, sqlite_store, monkeypatch, capsys):
    monkeypatch.setenv("SYNC_RATELIMIT_BUDGET_SECONDS", "1")  # --until-done waits as long as it takes
    limited.limiters["export"].window = 2.0
    started = time.monotonic()
    assert cli.execute(["sync", "--source", "zendesk", "--until-done"]) == 0
    assert time.monotonic() - started >= 1.5  # page 3 waited for the limit
    line = capsys.readouterr().out.strip()
    assert line.startswith("zendesk: fetched 2500, inserted 2500,") and "continues" not in line
    assert len(sqlite_store.list_records(source="zendesk", limit=500).records) == 500
    assert sqlite_store.counts().by_source["zendesk"] == 2500
    assert limited.count(EXPORT_PATH) == 3 + limited.limiters["export"].refused
