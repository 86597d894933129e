from __future__ import annotations

import pytest

from bot.config import ConfigError, load_config

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
            "ZENDESK_EMAIL is malformed",
        ),
        ({"SHORTCUT_API_TOKEN": "t", "SHORTCUT_API_URL": "ftp://x"}, "SHORTCUT_API_URL is malformed"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL is malformed"),
    ],
)
def test_a_bad_variable_is_one_line_naming_it_and_its_form(environ, message):
    with pytest.raises(ConfigError) as caught:
        load_config(environ)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert "secret-value" not in text and "xapp-wrong" not in text
