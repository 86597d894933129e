"""tests/unit is pure: no socket is opened and no moto is started here (those tests live in
tests/integration, tests/e2e). A unit test that reaches for one fails at once, saying where it belongs."""

from __future__ import annotations

import socket

import pytest

ELSEWHERE = "belongs in tests/integration: tests/unit opens no socket and starts no moto"


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_args: object, **_kwargs: object) -> None:
        raise AssertionError(f"a socket was used: this test {ELSEWHERE}")

    for name in ("bind", "connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refused)


def _not_here() -> None:
    pytest.fail(f"this test asks for moto: it {ELSEWHERE}")


@pytest.fixture
def dynamodb_client() -> None:
    _not_here()


@pytest.fixture
def moto_server() -> None:
    _not_here()


@pytest.fixture
def module_store() -> None:
    _not_here()
