from __future__ import annotations

import os

import pytest

from bot.config import ConfigError, load_config, load_env_file

SLACK = {
    "SLACK_BOT_TOKEN": "xoxb-test-token",
    "SLACK_APP_TOKEN": "xapp-test-token",
    "SLACK_CHANNEL_ID": "C0BUGS1",
}


def test_defaults_run_on_the_embedded_store_in_console_mode():
    config = load_config({})
    assert config.store.dynamodb_table is None
    assert config.store.sqlite_path == "./bugtracker.db"
    assert config.slack is None and config.zendesk is None and config.shortcut is None
    assert config.sync.interval_seconds == 300


def test_slack_settings_are_read_and_secrets_stay_out_of_repr():
    config = load_config({**SLACK, "SLACK_CHANNEL_ID": "C0BUGS1, G0PRIVATE", "BUG_LINKERS": "U0LEAD,S0QA"})
    assert config.slack.channel_ids == ("C0BUGS1", "G0PRIVATE")
    assert config.slack.linkers == ("U0LEAD", "S0QA")
    assert "xoxb-test-token" not in repr(config) and "xapp-test-token" not in repr(config)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {**SLACK, "SLACK_BOT_TOKEN": "xapp-wrong"},
            "SLACK_BOT_TOKEN is malformed: it should start with 'xoxb-'",
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-test-token"}, "SLACK_APP_TOKEN, SLACK_CHANNEL_ID missing"),
        ({**SLACK, "SLACK_CHANNEL_ID": "#bugs"}, "SLACK_CHANNEL_ID is malformed"),
        ({"DYNAMODB_TABLE": "a"}, "DYNAMODB_TABLE is malformed"),
        (
            {"SYNC_INTERVAL_SECONDS": "often"},
            "SYNC_INTERVAL_SECONDS is malformed: it should be a whole number",
        ),
        ({"SYNC_START": "last week"}, "SYNC_START is malformed: it should be a date"),
        ({"METRICS_PORT": "99999"}, "METRICS_PORT is malformed"),
        ({"ZENDESK_SUBDOMAIN": "acme"}, "ZENDESK_EMAIL, ZENDESK_API_TOKEN missing"),
        (
            {"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "nobody", "ZENDESK_API_TOKEN": "secret-value"},
            "ZENDESK_EMAIL is malformed: it should be a Zendesk admin's email address",
        ),
        ({"SHORTCUT_API_TOKEN": "t", "SHORTCUT_API_URL": "ftp://x"}, "SHORTCUT_API_URL is malformed"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL is malformed"),
        ({"METRICS_API_TOKEN": "secret-value"}, "METRICS_API_TOKEN is malformed: it should be at least 16"),
        ({"METRICS_API_TOKEN": "secret-value with spaces"}, "METRICS_API_TOKEN is malformed"),
        ({"METRICS_ALLOWED_HOSTS": "a.example, https://b.example/"}, "METRICS_ALLOWED_HOSTS is malformed"),
        ({"HEALTH_PORT": "0"}, "HEALTH_PORT is malformed"),
    ],
)
def test_a_bad_variable_is_one_line_naming_it_and_its_form(environ, message):
    with pytest.raises(ConfigError) as caught:
        load_config(environ)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert "secret-value" not in text and "xapp-wrong" not in text


HOSTILE_ENV_FILE = """\
SLACK_BOT_TOKEN=xoxb-from-a-developers-env-file
SLACK_APP_TOKEN=xapp-from-a-developers-env-file
SLACK_CHANNEL_ID=C0REALCHANNEL
DYNAMODB_TABLE=DevelopersTable
AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:9
LOG_LEVEL=DEBUG
"""


def test_load_config_never_reads_a_dotenv_file(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(HOSTILE_ENV_FILE)
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert config.slack is None and config.store.dynamodb_table is None and config.log_level is None
    assert "SLACK_BOT_TOKEN" not in os.environ and "DYNAMODB_TABLE" not in os.environ


def test_load_env_file_reads_the_current_directory_and_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "environ", dict(os.environ))  # what the file sets goes away with the test
    (tmp_path / ".env").write_text(HOSTILE_ENV_FILE)
    monkeypatch.chdir(tmp_path)
    os.environ.update(DYNAMODB_TABLE="FromTheShell", LOG_LEVEL="WARNING")
    assert load_env_file() is True
    config = load_config()
    assert config.slack.channel_ids == ("C0REALCHANNEL",)
    assert config.store.dynamodb_table == "FromTheShell" and config.log_level == "WARNING"
    assert load_env_file(tmp_path / "no-such-directory") is False


def test_log_level_unset_is_the_entry_points_choice_and_log_wire_is_off_by_default():
    config = load_config({})
    assert config.log_level is None and config.log_wire is False
    assert load_config({"LOG_WIRE": "1", "LOG_LEVEL": "DEBUG"}).log_wire is True


def test_secret_values_lists_every_secret_given_and_repr_shows_none():
    environ = {
        **SLACK,
        "ZENDESK_SUBDOMAIN": "acme",
        "ZENDESK_EMAIL": "bot@example.com",
        "ZENDESK_API_TOKEN": "zd-secret-value",
        "SHORTCUT_API_TOKEN": "sc-secret-value",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-value",
        "AWS_SESSION_TOKEN": "aws-session-value",
        "METRICS_API_TOKEN": "api-secret-value-0123",
    }
    config = load_config(environ)
    assert set(config.secret_values()) == {
        "api-secret-value-0123",
        "xoxb-test-token",
        "xapp-test-token",
        "zd-secret-value",
        "sc-secret-value",
        "aws-secret-value",
        "aws-session-value",
    }
    assert not any(secret in repr(config) for secret in config.secret_values())


def test_intake_bots_are_bot_and_app_ids():
    config = load_config({**SLACK, "SLACK_INTAKE_BOTS": "B0FORM, A0WORKFLOW"})
    assert config.slack.intake_bots == ("B0FORM", "A0WORKFLOW")
    assert load_config(SLACK).slack.intake_bots == ()
    with pytest.raises(ConfigError, match=r"SLACK_INTAKE_BOTS is malformed: .*bot ids \(B…\)"):
        load_config({**SLACK, "SLACK_INTAKE_BOTS": "U0PERSON"})


def test_http_server_settings_are_read():
    config = load_config(
        {
            "METRICS_ALLOWED_HOSTS": "Metrics.Internal., 10.0.0.5",
            "HEALTH_PORT": "8080",
            "HEALTH_HOST": "0.0.0.0",
        }
    )
    assert config.metrics_allowed_hosts == ("metrics.internal", "10.0.0.5")
    assert (config.health_port, config.health_host, config.metrics_api_token) == (8080, "0.0.0.0", None)
    assert load_config({}).health_port is None
