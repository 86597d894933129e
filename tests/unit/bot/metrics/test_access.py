"""Who may ask the HTTP server what (bot/metrics/access.py): the Host rule and the API token."""

from __future__ import annotations

import pytest

from bot.metrics.access import Access, host_name


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:9464", "127.0.0.1"),
        ("LocalHost", "localhost"),
        ("metrics.example.com.:80", "metrics.example.com"),
        ("[::1]:9464", "::1"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("", None),
        (None, None),
        ("127.0.0.1:80@evil.example", None),
        ("[::1]x", None),
        ("[::1", None),
    ],
)
def test_host_name_is_the_name_without_its_port(header, name):
    assert host_name(header) == name


@pytest.mark.parametrize(
    ("header", "local", "allowed"),
    [
        ("127.0.0.1:9464", "127.0.0.1", True),  # the bound address
        ("localhost:9464", "127.0.0.1", True),
        ("10.0.0.5:9464", "10.0.0.5", True),  # bound to 0.0.0.0: the address the request arrived on
        ("grafana.internal", "10.0.0.5", True),  # listed in METRICS_ALLOWED_HOSTS
        ("evil.example", "127.0.0.1", False),  # DNS rebinding: the page's own name
        ("evil.example:9464", "127.0.0.1", False),
        ("10.0.0.6", "10.0.0.5", False),
        (None, "127.0.0.1", False),
    ],
)
def test_host_must_be_the_local_address_localhost_or_allowed(header, local, allowed):
    access = Access(allowed_hosts=frozenset({"grafana.internal"}))
    assert access.host_allowed(header, local) is allowed


def test_api_is_off_without_a_token_whatever_is_sent():
    access = Access()
    assert not access.api_allowed("Bearer ")
    assert not access.api_allowed(None)
    assert "set METRICS_API_TOKEN" in access.api_refusal()


@pytest.mark.parametrize(
    ("authorization", "allowed"),
    [
        ("Bearer s3cret-token-0123456789", True),
        ("bearer  s3cret-token-0123456789 ", True),
        ("Bearer s3cret-token-012345678", False),
        ("Bearer s3cret-token-01234567890", False),
        ("Basic s3cret-token-0123456789", False),
        ("s3cret-token-0123456789", False),
        ("", False),
        (None, False),
    ],
)
def test_api_needs_exactly_the_bearer_token(authorization, allowed):
    access = Access(api_token="s3cret-token-0123456789")
    assert access.api_allowed(authorization) is allowed
    assert "s3cret" not in access.api_refusal() and "Authorization: Bearer" in access.api_refusal()


def test_the_token_is_compared_in_constant_time(monkeypatch):
    compared = []

    def spy(given, expected):
        compared.append((given, expected))
        return given == expected

    monkeypatch.setattr("bot.metrics.access.hmac.compare_digest", spy)
    assert Access(api_token="s3cret-token-0123456789").api_allowed("Bearer nope") is False
    assert compared == [(b"nope", b"s3cret-token-0123456789")]
