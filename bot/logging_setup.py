"""Logging for both entry points (`python -m bot`, `bugtracker`), set up here and nowhere else.

One stderr handler whose formatter redacts secrets from every line it writes (message, traceback and all):
the configured secret values themselves, and the places libraries print credentials (an `Authorization` or
`X-Amz-Security-Token` header, a `Shortcut-Token`, Slack `xox…-` / `xapp-` tokens, AWS secret / session
tokens in a credentials response). On top of that, the wire loggers of the HTTP libraries stay at INFO
even at LOG_LEVEL=DEBUG: their DEBUG lines are whole signed requests. LOG_WIRE=on lets them follow
LOG_LEVEL, still through the redaction.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from bot.config import Config

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Loggers whose DEBUG output is the HTTP traffic itself (headers, signed requests, bodies: a message's
# text, which must not outlive its deletion in a log).
WIRE_LOGGERS = (
    "botocore",
    "boto3",
    "s3transfer",
    "urllib3",
    "requests",
    "slack_sdk",
    "slack_bolt",
    "bot.slack.bolt",  # Bolt's own lines (bot/slack/app.py): at DEBUG they carry request bodies, message text
    "zenpy",
    "websocket",
    "websockets",
)

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8  # shorter values are too likely to be ordinary words to be replaced everywhere

_ALREADY = re.escape(REDACTED)
_SENSITIVE_KEY = (
    r"(?:proxy-)?authorization|x-amz-security-token|shortcut-token|x-api-key|"
    r"aws_secret_access_key|aws_session_token|secret_?access_?key|session_?token|"
    r"api_?token|token|password|secret"
)
# `'Authorization': b'AWS4-HMAC-SHA256 …'`, `"SessionToken": "…"`, `token='…'`: the quoted value.
_QUOTED = re.compile(rf"""(?i)(\b(?:{_SENSITIVE_KEY})["']?\s*[:=]\s*b?)(["'])(?:(?!\2).)*\2""")
# `x-amz-security-token:FwoG…` (a canonical request line), `Authorization: Basic …`: the rest of the line.
_HEADER_LINE = re.compile(rf"""(?i)(\b(?:{_SENSITIVE_KEY})\s*:\s*)(?!\s|b?["']|{_ALREADY})[^\r\n]+""")
# `?X-Amz-Security-Token=…&` (a presigned URL), `aws_session_token = …`: up to the next separator.
_PARAMETER = re.compile(rf"""(?i)(\b(?:{_SENSITIVE_KEY})\s*=\s*)(?!\s|b?["']|{_ALREADY})[^\s&"',;)}}\]>]+""")
# <SecretAccessKey>…</SecretAccessKey>, <SessionToken>…</SessionToken> (STS answers).
_XML = re.compile(r"(?i)(<(SecretAccessKey|SessionToken|Token)>)[^<]*(</\2>)")
_SLACK_TOKEN = re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret value and every credential-shaped field replaced."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _QUOTED.sub(rf"\1\2{REDACTED}\2", text)
    text = _HEADER_LINE.sub(rf"\1{REDACTED}", text)
    text = _PARAMETER.sub(rf"\1{REDACTED}", text)
    text = _XML.sub(rf"\1{REDACTED}\3", text)
    return _SLACK_TOKEN.sub(REDACTED, text)


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then redacts the whole line (a traceback included)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(FORMAT)
        self.secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


class _BugTrackerHandler(logging.StreamHandler):
    """Marks the handler installed here, so that configuring again replaces it instead of adding one."""


def configure_logging(
    level: str,
    *,
    wire: bool = False,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
    quiet_libraries: bool = False,
) -> None:
    """Send every log line at `level` or above to stderr (or `stream`) through the redacting formatter.

    Without `wire`, the WIRE_LOGGERS stay at INFO or above whatever `level` says. `quiet_libraries` (a
    one-shot CLI command nobody asked to be verbose) holds them at ERROR: urllib3's "Retrying ..." warnings
    are chatter there, the command's own answer or error line says what happened.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _BugTrackerHandler)]:
        root.removeHandler(handler)
    handler = _BugTrackerHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets))
    # The handler holds the level too: a library that sets its own logger to DEBUG at import (bm25s does)
    # would otherwise print its DEBUG lines at LOG_LEVEL=INFO.
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(level)
    numeric = logging.getLevelName(level)
    for name in WIRE_LOGGERS:
        held = not wire and numeric < logging.INFO
        if quiet_libraries:
            logging.getLogger(name).setLevel(logging.ERROR)
        else:
            logging.getLogger(name).setLevel(logging.INFO if held else logging.NOTSET)


def configure_for(config: Config, default_level: str, *, quiet_libraries: bool = False) -> None:
    """configure_logging from the configuration: LOG_LEVEL (else `default_level`), LOG_WIRE, its secrets.

    `quiet_libraries` applies only when LOG_LEVEL is not set (setting it asks for the libraries' lines).
    LOG_FILE: the lines are appended to that file instead of stderr (the console's conversation stays clean
    at any level); a file that cannot be opened is a ConfigError."""
    from bot.config import ConfigError

    stream = None
    if config.log_file:
        try:
            stream = open(config.log_file, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - the process's
        except OSError as exc:
            raise ConfigError(f"LOG_FILE {config.log_file} cannot be opened: {exc.strerror or exc}") from None
    configure_logging(
        config.log_level or default_level,
        wire=config.log_wire,
        secrets=config.secret_values(),
        stream=stream,
        quiet_libraries=quiet_libraries and config.log_level is None,
    )
