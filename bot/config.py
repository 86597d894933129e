"""Configuration: read from the environment in this one place, validated here.

`load_config()` reads only the mapping it is given (os.environ by default), never a `.env` file: the entry
points (`python -m bot`, `bugtracker`) call `load_env_file()` first, so that a developer's `.env` steers the
programs they run and never a test. A missing or malformed variable raises ConfigError with one line that
names the variable and the form it should have. Secrets are kept out of repr() so that logging a config
never prints them, and `Config.secret_values()` hands them to the log redaction (bot/logging_setup.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import overload

from storage import systems
from storage.errors import BugTrackerError


class ConfigError(BugTrackerError):
    pass


@dataclass(frozen=True)
class StoreConfig:
    dynamodb_table: str | None  # None: the embedded SQLite store
    dynamodb_endpoint: str | None  # AWS_ENDPOINT_URL_DYNAMODB; boto3 reads it itself, we only report it
    aws_region: str | None  # AWS_REGION or AWS_DEFAULT_REGION (boto3 itself reads only the latter)
    sqlite_path: str
    aws_max_attempts: int
    # AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (boto3 reads them itself): kept only to redact them from logs
    aws_secrets: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str = field(repr=False)
    app_token: str = field(repr=False)
    channel_ids: tuple[str, ...]
    api_url: str
    linkers: tuple[str, ...]  # Slack user ids (U…/W…) and user group ids (S…); empty: everyone
    thread_replies: bool
    sweep_seconds: int = 300  # SLACK_SWEEP_SECONDS: how often the history is swept; 0 = on connections only
    intake_bots: tuple[str, ...] = ()  # SLACK_INTAKE_BOTS: bots (B…) and apps (A…) whose posts are reports
    # BUG_READERS: who reads every bug channel's reports besides its members (same form); linkers do too
    readers: tuple[str, ...] = ()
    digest_at: str | None = None  # BUG_DIGEST_AT: HH:MM, the daily digest's local time (None: no digest)
    digest_tz: str = "UTC"  # BUG_DIGEST_TZ: the zone of BUG_DIGEST_AT (IANA name)


@dataclass(frozen=True)
class ZendeskConfig:
    subdomain: str
    email: str
    api_token: str = field(repr=False)


@dataclass(frozen=True)
class ShortcutConfig:
    api_token: str = field(repr=False)
    api_url: str
    query: str


@dataclass(frozen=True)
class SyncConfig:
    interval_seconds: int
    start: date | None  # first backfill starts here; None: all history
    lease_seconds: int = 120  # a crashed runner's lease expires after this; renewed every third of it
    ratelimit_budget_seconds: int = 300  # a run stops after waiting this long on upstream rate limits


@dataclass(frozen=True)
class Config:
    store: StoreConfig
    slack: SlackConfig | None  # None: console mode
    zendesk: ZendeskConfig | None
    shortcut: ShortcutConfig | None
    sync: SyncConfig
    metrics_port: int | None
    log_level: str | None  # None: the entry point's default (INFO for the bot, WARNING for a CLI command)
    metrics_host: str = "127.0.0.1"  # the drill-down API shows bug titles: 0.0.0.0 only on purpose
    metrics_refresh_seconds: int = 60  # how often bug counts are re-read from the store
    # METRICS_API_TOKEN: /api/* is served only with it (Bearer)
    metrics_api_token: str | None = field(default=None, repr=False)
    metrics_allowed_hosts: tuple[str, ...] = ()  # METRICS_ALLOWED_HOSTS: Host names answered besides local
    health_port: int | None = None  # HEALTH_PORT: /healthz and /readyz alone on a port of their own
    health_host: str | None = None  # HEALTH_HOST: its bind address; None: METRICS_HOST
    status_updates: bool = True  # SLACK_STATUS_UPDATES: tell each report's thread when its ticket changes
    create_enabled: bool = True  # BUG_CREATE: linkers may create Shortcut stories / Zendesk tickets
    zendesk_notes: bool = False  # ZENDESK_NOTES: an internal note on linked tickets when their story is done
    log_wire: bool = False  # LOG_WIRE: the HTTP libraries' DEBUG lines too (redacted), when LOG_LEVEL=DEBUG
    log_file: str | None = None  # LOG_FILE: append the logs to this file instead of stderr

    def secret_values(self) -> tuple[str, ...]:
        """Every secret this process was given, for the log redaction to replace wherever it appears."""
        values = list(self.store.aws_secrets)
        if self.slack is not None:
            values += [self.slack.bot_token, self.slack.app_token]
        if self.zendesk is not None:
            values.append(self.zendesk.api_token)
        if self.shortcut is not None:
            values.append(self.shortcut.api_token)
        if self.metrics_api_token:
            values.append(self.metrics_api_token)
        return tuple(value for value in values if value)


_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
_LINKER = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_INTAKE_BOT = re.compile(r"^[BA][A-Z0-9]{2,}$")
_SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DIGEST_AT = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_BIND = re.compile(r"^[A-Za-z0-9.:-]+$")
_HOST_NAME = re.compile(r"^[A-Za-z0-9.:-]+$")
_API_TOKEN = re.compile(r"^[!-~]{16,}$")  # printable ASCII, no spaces: it travels in a header
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# What configures each ticket system (all of them must be set), for the one "not configured" line.
TICKET_SYSTEM_SETTINGS = {
    "zendesk": ("ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"),
    "shortcut": ("SHORTCUT_API_TOKEN",),
}

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_SHORTCUT_API_URL = "https://api.app.shortcut.com/api/v3"
DEFAULT_SHORTCUT_QUERY = "type:bug"


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    @overload
    def text(self, name: str, default: str) -> str: ...
    @overload
    def text(self, name: str, default: None = None) -> str | None: ...
    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or default

    @overload
    def matching(self, name: str, pattern: re.Pattern[str], form: str, default: str) -> str: ...
    @overload
    def matching(
        self, name: str, pattern: re.Pattern[str], form: str, default: None = None
    ) -> str | None: ...
    def matching(
        self, name: str, pattern: re.Pattern[str], form: str, default: str | None = None
    ) -> str | None:
        value = self.text(name, default)
        if value is not None and not pattern.match(value):
            raise ConfigError(f"{name} is malformed: it should be {form}")
        return value

    @overload
    def integer(self, name: str, default: int, low: int, high: int) -> int: ...
    @overload
    def integer(self, name: str, default: None, low: int, high: int) -> int | None: ...
    def integer(self, name: str, default: int | None, low: int, high: int) -> int | None:
        value = self.text(name)
        if value is None:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            raise ConfigError(f"{name} is malformed: it should be a whole number from {low} to {high}")
        return int(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} is malformed: it should be on or off (true/false)")

    def secret(self, name: str, prefix: str = "") -> str | None:
        value = self.text(name)
        if value is not None and not value.startswith(prefix):
            # Never echo the value: it may be a real secret put in the wrong variable.
            raise ConfigError(f"{name} is malformed: it should start with '{prefix}'")
        return value

    def listing(self, name: str, pattern: re.Pattern[str], form: str) -> tuple[str, ...]:
        items = tuple(item.strip() for item in (self.text(name) or "").split(",") if item.strip())
        for item in items:
            if not pattern.match(item):
                raise ConfigError(f"{name} is malformed: it should be a comma-separated list of {form}")
        return items

    def all_or_none(self, names: tuple[str, ...]) -> bool:
        present = [name for name in names if self.text(name)]
        if present and len(present) != len(names):
            missing = ", ".join(name for name in names if name not in present)
            raise ConfigError(
                f"{missing} missing: {', '.join(present)} is set, and it needs all of {', '.join(names)}"
            )
        return bool(present)


def missing_settings(system: str) -> str:
    """What is missing, as one clause: `SHORTCUT_API_TOKEN is not set`, `ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and
    ZENDESK_API_TOKEN are not set`."""
    *first, last = TICKET_SYSTEM_SETTINGS[system]
    names = f"{', '.join(first)} and {last}" if first else last
    return f"{names} {'are' if first else 'is'} not set"


def not_configured(system: str) -> str:
    """The one line that says a ticket system cannot be used here, and what would make it usable:
    `Shortcut is not configured here (SHORTCUT_API_TOKEN is not set)`."""
    return f"{systems.name(system)} is not configured here ({missing_settings(system)})"


def load_env_file(directory: str | os.PathLike[str] | None = None) -> bool:
    """For the entry points only: put the variables of `.env` in the current directory (or `directory`) into
    os.environ; a variable already set in the environment wins. Returns whether there was a file."""
    from dotenv import load_dotenv

    path = Path(directory if directory is not None else os.getcwd()) / ".env"
    return path.is_file() and load_dotenv(path, override=False)


def load_config(environ: Mapping[str, str] | None = None, *, slack: bool = True) -> Config:
    """Read the configuration from `environ` (default os.environ). Never reads `.env`: see load_env_file.
    `slack=False`: the Slack settings are not read at all (a command that does not talk to Slack, such as
    `bugtracker stats`, is not refused for a half-set SLACK_* it never uses)."""
    read = _Reader(os.environ if environ is None else environ)
    store = StoreConfig(
        dynamodb_table=read.matching(
            "DYNAMODB_TABLE", _TABLE, "a DynamoDB table name (3-255 of letters, digits, _ . -)"
        ),
        dynamodb_endpoint=read.text("AWS_ENDPOINT_URL_DYNAMODB") or read.text("AWS_ENDPOINT_URL"),
        aws_region=read.text("AWS_REGION") or read.text("AWS_DEFAULT_REGION"),
        sqlite_path=read.text("BUGTRACKER_DB", "./bugtracker.db"),
        aws_max_attempts=read.integer("AWS_MAX_ATTEMPTS", 8, 1, 20),
        aws_secrets=tuple(
            value
            for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
            if (value := read.text(name))
        ),
    )
    return Config(
        store=store,
        slack=_slack(read) if slack else None,
        zendesk=_zendesk(read),
        shortcut=_shortcut(read),
        sync=_sync(read),
        metrics_port=read.integer("METRICS_PORT", None, 1, 65535),
        metrics_host=read.matching("METRICS_HOST", _BIND, "an address to bind, like 0.0.0.0", "127.0.0.1"),
        metrics_refresh_seconds=read.integer("METRICS_REFRESH_SECONDS", 60, 5, 86400),
        metrics_api_token=read.matching(
            "METRICS_API_TOKEN",
            _API_TOKEN,
            "at least 16 printable characters without spaces (a random string)",
        ),
        metrics_allowed_hosts=tuple(
            name.lower().rstrip(".")
            for name in read.listing("METRICS_ALLOWED_HOSTS", _HOST_NAME, "host names or addresses, no ports")
        ),
        health_port=read.integer("HEALTH_PORT", None, 1, 65535),
        health_host=read.matching("HEALTH_HOST", _BIND, "an address to bind, like 0.0.0.0"),
        status_updates=read.flag("SLACK_STATUS_UPDATES", True),
        create_enabled=read.flag("BUG_CREATE", True),
        zendesk_notes=read.flag("ZENDESK_NOTES", False),
        log_level=read.matching(
            "LOG_LEVEL",
            re.compile(r"^(DEBUG|INFO|WARNING|ERROR)$"),
            "one of " + ", ".join(_LOG_LEVELS),
        ),
        log_wire=read.flag("LOG_WIRE", False),
        log_file=read.text("LOG_FILE") or None,
    )


def _slack(read: _Reader) -> SlackConfig | None:
    if not read.all_or_none(("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CHANNEL_ID")):
        return None
    api_url = read.text("SLACK_API_URL", DEFAULT_SLACK_API_URL)
    if not api_url.startswith(("http://", "https://")):
        raise ConfigError("SLACK_API_URL is malformed: it should be a URL like https://slack.com/api/")
    return SlackConfig(
        bot_token=_present("SLACK_BOT_TOKEN", read.secret("SLACK_BOT_TOKEN", "xoxb-")),
        app_token=_present("SLACK_APP_TOKEN", read.secret("SLACK_APP_TOKEN", "xapp-")),
        channel_ids=read.listing("SLACK_CHANNEL_ID", _CHANNEL, "channel ids like C0123456789"),
        api_url=api_url if api_url.endswith("/") else api_url + "/",
        linkers=read.listing("BUG_LINKERS", _LINKER, "user ids (U…) or user group ids (S…)"),
        readers=read.listing("BUG_READERS", _LINKER, "user ids (U…) or user group ids (S…)"),
        thread_replies=read.flag("SLACK_THREAD_REPLIES", True),
        sweep_seconds=read.integer("SLACK_SWEEP_SECONDS", 300, 0, 86400),
        intake_bots=read.listing("SLACK_INTAKE_BOTS", _INTAKE_BOT, "bot ids (B…) or app ids (A…)"),
        digest_at=read.matching("BUG_DIGEST_AT", _DIGEST_AT, "a time of day like 09:00 (24-hour HH:MM)"),
        digest_tz=_zone(read.text("BUG_DIGEST_TZ", "UTC")),
    )


def _zone(name: str) -> str:
    """An IANA zone name the machine knows (BUG_DIGEST_TZ)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("BUG_DIGEST_TZ is malformed: it should be a zone name like Europe/Berlin") from None
    return name


def _present(name: str, value: str | None) -> str:
    """A variable that all_or_none found set."""
    if value is None:
        raise ConfigError(f"{name} missing")
    return value


def _zendesk(read: _Reader) -> ZendeskConfig | None:
    if not read.all_or_none(("ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN")):
        return None
    email = _present("ZENDESK_EMAIL", read.text("ZENDESK_EMAIL"))
    if "@" not in email:
        raise ConfigError(
            "ZENDESK_EMAIL is malformed: it should be a Zendesk admin's email address"
            " (the incremental export is admin-only)"
        )
    return ZendeskConfig(
        subdomain=_present(
            "ZENDESK_SUBDOMAIN",
            read.matching("ZENDESK_SUBDOMAIN", _SUBDOMAIN, "the part before .zendesk.com, like 'acme'"),
        ),
        email=email,
        api_token=_present("ZENDESK_API_TOKEN", read.secret("ZENDESK_API_TOKEN")),
    )


def _shortcut(read: _Reader) -> ShortcutConfig | None:
    token = read.secret("SHORTCUT_API_TOKEN")
    if token is None:
        return None
    api_url = read.text("SHORTCUT_API_URL", DEFAULT_SHORTCUT_API_URL).rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"SHORTCUT_API_URL is malformed: it should be a URL like {DEFAULT_SHORTCUT_API_URL}"
        )
    return ShortcutConfig(
        api_token=token, api_url=api_url, query=read.text("SHORTCUT_QUERY", DEFAULT_SHORTCUT_QUERY)
    )


def _sync(read: _Reader) -> SyncConfig:
    start_text = read.text("SYNC_START")
    start = None
    if start_text is not None:
        try:
            start = date.fromisoformat(start_text)
        except ValueError:
            raise ConfigError("SYNC_START is malformed: it should be a date like 2026-01-31") from None
    return SyncConfig(
        interval_seconds=read.integer("SYNC_INTERVAL_SECONDS", 300, 10, 86400),
        start=start,
        lease_seconds=read.integer("SYNC_LEASE_SECONDS", 120, 3, 3600),
        ratelimit_budget_seconds=read.integer("SYNC_RATELIMIT_BUDGET_SECONDS", 300, 1, 3600),
    )
