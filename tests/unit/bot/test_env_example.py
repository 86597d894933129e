"""`.env.example` lists every variable bot/config.py reads (README: "lists them all with their forms")."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import load_config

ROOT = Path(__file__).resolve().parents[3]
# boto3's own variables: read only as fallbacks or to redact them from logs; AWS documents them.
BOTO3_OWN = {"AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
BOTO3_OWN |= {"AWS_SECURITY_TOKEN"}


class _Recording(dict):
    """An environment that notes every name looked up in it."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, name, default=None):
        self.asked.add(name)
        return super().get(name, default)

    def __getitem__(self, name):
        self.asked.add(name)
        return super().__getitem__(name)

    def __contains__(self, name):
        self.asked.add(name)
        return super().__contains__(name)


def test_every_variable_the_config_reads_is_in_env_example():
    environ = _Recording(
        {
            "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
            "SLACK_APP_TOKEN": "xapp-1-abc",
            "SLACK_CHANNEL_ID": "C0123456789",
            "ZENDESK_SUBDOMAIN": "acme",
            "ZENDESK_EMAIL": "admin@example.com",
            "ZENDESK_API_TOKEN": "zendesk-token",
            "SHORTCUT_API_TOKEN": "shortcut-token",
            "DYNAMODB_TABLE": "BugTracker",
        }
    )
    load_config(environ)
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert len(environ.asked) > 20  # the recording works
    assert environ.asked - BOTO3_OWN - listed == set()
