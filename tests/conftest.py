"""Fixtures shared by every test folder: the two stores, moto in-process and moto's server over HTTP."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from storage.sqlite import SqliteStore
from tests.support import slack_app
from tests.support.processes import child_env, is_product_variable

TABLE = "BugTracker"


@pytest.hookimpl(optionalhook=True)  # `-p no:xdist` runs without the plugin that defines the hook
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (make test): two workers per CPU, at most 8. The suite mostly waits (bot processes, fake
    servers, sync intervals; a 2-core run used a third of its CPU time with one worker per CPU), so more
    workers than cores finish sooner; past 8, each worker's start-up (imports, its own moto server) costs
    more than it saves on a suite of about ten minutes of test time. PYTEST_XDIST_AUTO_NUM_WORKERS overrides
    it."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(8, 2 * max(1, cpus))


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C as a terminal sends it. A suite started with SIGINT ignored (a background job of a
    non-interactive shell, nohup) would hand that on to every process a test starts (an ignored signal
    stays ignored across exec, and Python then installs no KeyboardInterrupt), so the tests that press
    Ctrl-C would see a process that cannot hear it. Handled here, it is reset to the default in children."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


_UNGROUPED = pytest.StashKey[set[str]]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker under `--dist loadgroup`, xdist has by now suffixed each `xdist_group` test's id
    with its group, which is how the controller keeps a group on one worker. If a pytest/xdist pairing stops
    doing so (pytest 9.2 did, silently), a group's shared set-up runs once per worker: those tests fail."""
    if getattr(config.option, "loadgroup", False):
        config.stash[_UNGROUPED] = {
            item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid
        }


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.nodeid in item.config.stash.get(_UNGROUPED, set()):
        pytest.fail("--dist loadgroup did not keep this xdist_group test's group on one worker")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Each Slack app a test built (tests/support/slack_app.py) is stopped as the test ends, while its fake
    Slack still answers (the test's fixtures are torn down after): stopped later, its workers' calls to the
    stopped fake cost a retry's backoff each."""
    try:
        return (yield)
    finally:
        slack_app.stop_all()


@pytest.fixture(autouse=True)
def _no_product_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SLACK_* / DYNAMODB_TABLE / LOG_LEVEL … from the developer's shell steers a test: each test sets
    what it needs. (Nothing reads `.env` here either: only the entry points' main() do, in their cwd.)"""
    for name in [name for name in os.environ if is_product_variable(name)]:
        monkeypatch.delenv(name)


def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials so nothing can reach real AWS, and no endpoint leaking in from the shell."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # Never let botocore's credential chain ask the EC2 metadata address (not loopback) from a test.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _aws_test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_aws(monkeypatch)


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "bugs.db")
    store.init()
    yield store
    store.close()


@pytest.fixture
def dynamodb_client(_aws_test_environment):
    import boto3
    from moto import mock_aws

    from tests.support import moto_transactions

    moto_transactions.install()
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


class AtomicCalls:
    """Makes each API call atomic, as DynamoDB guarantees and moto (no locks) does not, so that threaded
    tests exercise our conditions between calls rather than moto's own races inside one call."""

    def __init__(self, client) -> None:
        import threading

        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str):
        attribute = getattr(self._client, name)
        if not callable(attribute) or name in ("get_waiter", "get_paginator"):
            return attribute

        def call(*args, **kwargs):
            with self._lock:
                return attribute(*args, **kwargs)

        return call


@pytest.fixture
def dynamodb_store(dynamodb_client):
    from storage.dynamodb import DynamoDBStore

    store = DynamoDBStore(AtomicCalls(dynamodb_client), TABLE)
    store.init()
    return store


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request):
    """The contract: every semantic is checked on both stores."""
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture(scope="module", params=["sqlite", "dynamodb"])
def module_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The `store` contract fixture built once per module, for tests that only read what an expensive
    set-up wrote (moto copies the whole table for every item of every transaction, so a set-up of 40 links
    costs seconds). Mark the module `xdist_group` so its tests share one worker, hence one set-up."""
    if request.param == "sqlite":
        store = SqliteStore(tmp_path_factory.mktemp("store") / "bugs.db")
        store.init()
        yield store
        store.close()
        return
    import boto3
    from moto import mock_aws

    from storage.dynamodb import DynamoDBStore
    from tests.support import moto_transactions

    moto_transactions.install()
    with pytest.MonkeyPatch.context() as monkeypatch:
        _fake_aws(monkeypatch)
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            store = DynamoDBStore(AtomicCalls(client), TABLE)
            store.init()
            yield store


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's server on a free loopback port, for tests that go over real HTTP, each request atomic as on
    DynamoDB (tests/support/moto_server.py). Yields the endpoint URL."""
    from tests.support.moto_server import AtomicMotoServer

    server = AtomicMotoServer().start()
    yield server.url
    server.stop()


@pytest.fixture
def moto_endpoint_env(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for a child process (tests/support/processes.py) to use moto's server, with a table of
    its own; boto3 in this process uses it too."""
    import uuid

    table = f"bugs-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server)
    monkeypatch.setenv("DYNAMODB_TABLE", table)
    return child_env(AWS_ENDPOINT_URL_DYNAMODB=moto_server, DYNAMODB_TABLE=table)
