"""Secrets never reach the log, at any LOG_LEVEL: real processes at DEBUG (and with LOG_WIRE on) against
moto's server over HTTP with a fake AWS session token, the fake Slack with fake tokens, and the fake
Zendesk / Shortcut with fake API tokens. Every byte the processes print is searched for every secret."""

from __future__ import annotations

import subprocess

import pytest

from tests.fakes.shortcut import FakeShortcut
from tests.fakes.slack_server import FakeSlack
from tests.fakes.zendesk import FakeZendesk
from tests.support.processes import run_entry_point, start_entry_point, stop_bot

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"
SECRETS = {
    "AWS_SECRET_ACCESS_KEY": "fakeSecretAccessKey0123456789abcdefGHIJKL",
    "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEFAKEsessionTOKEN0123456789+/abcdefghijklmnopqrstuvwxyz==",
    "SLACK_BOT_TOKEN": "xoxb-" + "1" * 12 + "-" + "2" * 12 + "-FakeBotTokenValue0123",  # fake, built
    "SLACK_APP_TOKEN": "xapp-1-A0FAKE-333333333333-fakeapptokenvalue0123456789abcdef",
    "ZENDESK_API_TOKEN": "FakeZendeskApiToken0123456789abcdefXYZ",
    "SHORTCUT_API_TOKEN": "fake-shortcut-token-0123-4567-89ab-cdef01234567",
}


def assert_no_secret(output: str) -> None:
    for name, value in SECRETS.items():
        assert value not in output, f"{name} appears in the output"
        assert value[-16:] not in output, f"the end of {name} appears in the output"


@pytest.fixture
def env(moto_endpoint_env, tmp_path) -> dict[str, str]:
    """DynamoDB on moto's server with the fake secrets; the table created by `bugtracker init`."""
    aws = {name: value for name, value in SECRETS.items() if name.startswith("AWS_")}
    environ = {**moto_endpoint_env, **aws, "LOG_LEVEL": "DEBUG"}
    created = run_entry_point("bugtracker", "init", cwd=tmp_path, env=environ)
    assert created.returncode == 0, created.stderr
    assert_no_secret(created.stdout + created.stderr)
    return environ


@pytest.mark.parametrize("wire", [False, True], ids=["debug", "debug-and-wire"])
def test_cli_at_debug_never_prints_a_secret(env, tmp_path, wire):
    env = {
        **env,
        **SECRETS,  # every secret configured (the CLI builds no Slack or Zendesk client for these commands)
        "SLACK_CHANNEL_ID": CHANNEL,
        "ZENDESK_SUBDOMAIN": "acme",
        "ZENDESK_EMAIL": "bot@example.com",
        "LOG_WIRE": "on" if wire else "off",
    }
    outputs = [
        run_entry_point("bugtracker", *args, cwd=tmp_path, env=env) for args in (("stats",), ("show", "ZD-1"))
    ]
    assert [result.returncode for result in outputs] == [0, 1]
    text = "".join(result.stdout + result.stderr for result in outputs)
    assert_no_secret(text)
    assert " INFO botocore.credentials: Found credentials" in text  # library logs do show, at INFO
    if wire:  # the signed requests were logged, with the credentials replaced
        assert "botocore.endpoint: Sending http request" in text
        assert "'X-Amz-Security-Token': b'[redacted]'" in text and "'Authorization': b'[redacted]'" in text
    else:
        assert "botocore.endpoint" not in text and "Sending http request" not in text


@pytest.mark.parametrize("wire", [False, True], ids=["debug", "debug-and-wire"])
def test_the_bot_at_debug_never_prints_a_secret(env, tmp_path, wire):
    with (
        FakeSlack() as slack,
        FakeZendesk(token=SECRETS["ZENDESK_API_TOKEN"]) as zendesk,
        FakeShortcut(token=SECRETS["SHORTCUT_API_TOKEN"]) as shortcut,
    ):
        zendesk.add_tickets(3)
        shortcut.add_story(7)
        bot_env = {
            **env,
            **SECRETS,
            "LOG_WIRE": "on" if wire else "off",
            "SLACK_CHANNEL_ID": CHANNEL,
            "SLACK_API_URL": slack.api_url,
            "ZENDESK_SUBDOMAIN": zendesk.subdomain,
            "ZENDESK_EMAIL": zendesk.email,
            "ZENPY_FORCE_SCHEME": "http",
            "ZENPY_FORCE_NETLOC": zendesk.netloc,
            "SHORTCUT_API_URL": shortcut.api_url,
        }
        log = (tmp_path / "bot.log").open("w")  # a file, not a pipe: nobody reads DEBUG output while it runs
        bot = start_entry_point("bot", cwd=tmp_path, env=bot_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            slack.wait_for(lambda: slack.connections or bot.poll() is not None, timeout=30)
            assert bot.poll() is None, (tmp_path / "bot.log").read_text()[-3000:]
            message, _ = slack.post(CHANNEL, "Checkout crashes priority=High ticketId=ZD-2")
            # generous timeouts: at DEBUG with wire logs on a loaded machine the bot is slower than usual
            slack.wait_for(lambda: any(p.get("thread_ts") == message["ts"] for p in slack.posts), timeout=30)
            command = slack.push_command("show ZD-2")
            slack.wait_for(lambda: slack.response_to(command), timeout=30)
            slack.wait_for(
                lambda: zendesk.pages_served >= 1 and shortcut.count("/search/stories") >= 1, timeout=30
            )
        finally:
            stop_bot(bot, timeout=30)  # killed if it does not stop within the bound
            log.close()
    output = (tmp_path / "bot.log").read_text()
    assert_no_secret(output)
    assert "mode: Slack Socket Mode" in output and " DEBUG " in output
    if wire:
        assert "'X-Amz-Security-Token': b'[redacted]'" in output
