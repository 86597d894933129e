"""bot/logging_setup.py: what the redaction replaces, and which loggers speak at which LOG_LEVEL."""

from __future__ import annotations

import io
import logging

import pytest

from bot.config import load_config
from bot.logging_setup import REDACTED, WIRE_LOGGERS, configure_for, configure_logging, redact

SESSION_TOKEN = "FwoGZXIvYXdzEJr//////////wEaDFAKESESSIONTOKEN+/="
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKEKEY"


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, {name: logging.getLogger(name).level for name in WIRE_LOGGERS})
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize(
    "line",
    [
        # botocore.endpoint at DEBUG: the prepared request's headers
        "Sending http request: <AWSPreparedRequest stream_output=False, method=POST, url=http://x/, "
        f"headers={{'X-Amz-Target': b'DynamoDB_20120810.Query', 'X-Amz-Security-Token': b'{SESSION_TOKEN}', "
        "'Authorization': b'AWS4-HMAC-SHA256 "
        "Credential=AKIDEXAMPLE/20261129/us-east-1/dynamodb/aws4_request, "
        f"SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=0123456789abcdef{SESSION_TOKEN}'}}>",
        # botocore.auth at DEBUG: the canonical request, one header a line
        f"CanonicalRequest:\nPOST\n/\n\nhost:127.0.0.1\nx-amz-security-token:{SESSION_TOKEN}\n\nhost;x-amz-date",
        # a presigned URL
        f"GET https://bucket.s3.amazonaws.com/k?X-Amz-Security-Token={SESSION_TOKEN}&X-Amz-Expires=60",
        # STS answers (botocore.parsers logs response bodies at DEBUG)
        f"Response body: b'<Credentials><SessionToken>{SESSION_TOKEN}</SessionToken>"
        f"<SecretAccessKey>{SECRET_KEY}</SecretAccessKey></Credentials>'",
        f'{{"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "{SECRET_KEY}", "Token": "{SESSION_TOKEN}"}}',
        f"aws_session_token = {SESSION_TOKEN}",
        # requests / http.client style header lines and dicts
        f"Authorization: Basic {SESSION_TOKEN}",
        f"{{'Shortcut-Token': '{SESSION_TOKEN}', 'Content-Type': 'application/json'}}",
        f"send: b'GET /api/v3/workflows HTTP/1.1\\r\\nShortcut-Token: {SESSION_TOKEN}\\r\\n\\r\\n'",
        # Slack tokens wherever they appear
        f"https://slack.com/api/auth.test?token=xoxb-1234-5678-{SESSION_TOKEN}",
        "bolt: 'token': 'xapp-1-A0FAKE-1234-abcdef0123456789'",
    ],
)
def test_credential_shaped_fields_are_redacted_without_knowing_the_value(line):
    redacted = redact(line)
    assert REDACTED in redacted
    for secret in (SESSION_TOKEN, SECRET_KEY, "xapp-1-A0FAKE", "xoxb-1234"):
        assert secret not in redacted, redacted


def test_known_secret_values_are_redacted_anywhere_and_ordinary_text_is_left_alone():
    zendesk = "zd-api-token-0123456789"
    line = f"zenpy: request failed for agent@example.com/token:{zendesk} (401)"
    assert redact(line, [zendesk]) == f"zenpy: request failed for agent@example.com/token:{REDACTED} (401)"
    plain = "sync zendesk skipped: ZENDESK_API_TOKEN is not set; store: DynamoDB table 'Bugs' at http://h:1"
    assert redact(plain, ["short", zendesk]) == plain


def test_the_formatter_redacts_tracebacks_too(restore_logging):
    stream = io.StringIO()
    configure_logging("INFO", secrets=[SESSION_TOKEN], stream=stream)
    try:
        raise RuntimeError(f"refused with token {SESSION_TOKEN}")
    except RuntimeError:
        logging.getLogger("bot.test").exception("call failed")
    output = stream.getvalue()
    assert "call failed" in output and "RuntimeError" in output and REDACTED in output
    assert SESSION_TOKEN not in output


def test_wire_loggers_stay_at_info_at_debug_unless_log_wire(restore_logging):
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    logging.getLogger("botocore.endpoint").debug("wire line 1")
    logging.getLogger("urllib3.connectionpool").debug("wire line 2")
    logging.getLogger("botocore.credentials").info("found credentials")
    logging.getLogger("bot.sync").debug("our own debug line")
    configure_logging("DEBUG", wire=True, stream=stream)
    logging.getLogger("botocore.endpoint").debug("wire line 3")
    output = stream.getvalue()
    assert "wire line 1" not in output and "wire line 2" not in output
    assert "found credentials" in output and "our own debug line" in output and "wire line 3" in output
    root = logging.getLogger()
    assert sum(handler.stream is stream for handler in root.handlers if hasattr(handler, "stream")) == 1


def test_configure_for_takes_level_wire_and_secrets_from_the_config(restore_logging, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    config = load_config(
        {
            "LOG_LEVEL": "DEBUG",
            "LOG_WIRE": "on",
            "AWS_SESSION_TOKEN": SESSION_TOKEN,
            "SHORTCUT_API_TOKEN": "sc-secret-token-42",
        }
    )
    configure_for(config, default_level="WARNING")
    logging.getLogger("urllib3.connectionpool").debug("sent %s and %s", SESSION_TOKEN, "sc-secret-token-42")
    assert stream.getvalue().endswith(f"urllib3.connectionpool: sent {REDACTED} and {REDACTED}\n")
    configure_for(load_config({}), default_level="WARNING")
    logging.getLogger("bot").info("not shown")
    logging.getLogger("bot").warning("shown")
    assert "not shown" not in stream.getvalue() and "shown" in stream.getvalue()


def test_a_quiet_cli_command_keeps_library_warnings_off_but_not_its_own_errors(restore_logging, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    configure_for(load_config({}), default_level="WARNING", quiet_libraries=True)
    logging.getLogger("urllib3.connectionpool").warning("Retrying (Retry(total=4)) after connection broken")
    logging.getLogger("bot.sync.runner").error("sync shortcut stopped")
    assert "Retrying" not in stream.getvalue()
    assert "sync shortcut stopped" in stream.getvalue()


@pytest.mark.parametrize(
    ("variables", "quiet"), [({"LOG_LEVEL": "WARNING"}, True), ({}, False)], ids=["LOG_LEVEL", "verbose"]
)
def test_log_level_or_verbose_brings_library_warnings_back(restore_logging, monkeypatch, variables, quiet):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    configure_for(load_config(variables), default_level="WARNING", quiet_libraries=quiet)
    logging.getLogger("urllib3.connectionpool").warning("Retrying (Retry(total=4)) after connection broken")
    assert "Retrying" in stream.getvalue()


def test_one_shot_commands_quiet_the_libraries_and_verbose_does_not(restore_logging, monkeypatch, tmp_path):
    from bot.cli import execute

    monkeypatch.setenv("BUGTRACKER_DB", str(tmp_path / "bugs.db"))
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    monkeypatch.delenv("DYNAMODB_TABLE", raising=False)
    assert execute(["init"]) == 0
    assert logging.getLogger("urllib3").level == logging.ERROR
    assert execute(["stats", "--verbose"]) == 0
    assert logging.getLogger("urllib3").level == logging.NOTSET


def test_a_library_that_sets_its_own_logger_to_debug_stays_at_the_configured_level(restore_logging):
    """bm25s does `logging.getLogger("bm25s").setLevel(logging.DEBUG)` when imported."""
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    chatty = logging.getLogger("h9qa_chatty_library")
    chatty.setLevel(logging.DEBUG)
    chatty.debug("Building index from tokens")
    chatty.info("an info line")
    assert "Building index" not in stream.getvalue()
    assert "an info line" in stream.getvalue()


def test_log_file_takes_the_lines_instead_of_stderr(tmp_path, capsys):
    import logging

    from bot.config import load_config
    from bot.logging_setup import configure_for

    path = tmp_path / "bot.log"
    config = load_config(
        {"LOG_FILE": str(path), "LOG_LEVEL": "INFO", "BUGTRACKER_DB": str(tmp_path / "b.db")}
    )
    try:
        configure_for(config, default_level="WARNING")
        logging.getLogger("bot").info("mode: console")
        assert "mode: console" in path.read_text() and capsys.readouterr().err == ""
    finally:
        configure_for(load_config({}), default_level="WARNING")


def test_a_log_file_that_cannot_be_opened_is_a_configuration_error(tmp_path):
    import pytest

    from bot.config import ConfigError, load_config
    from bot.logging_setup import configure_for

    config = load_config({"LOG_FILE": str(tmp_path / "missing" / "bot.log")})
    with pytest.raises(ConfigError, match="LOG_FILE .* cannot be opened"):
        configure_for(config, default_level="WARNING")
