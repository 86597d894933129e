"""The one list-filter check shared by the CLI, `/bug list` and the drill-down API."""

import pytest

from bot import services
from bot.services import ListRequest, UsageError, check_limit, check_list_request


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"source": "Slack"}, (("source", "slack"),)),
        ({"priority": "p1"}, (("priority", "High"),)),
        ({"priority": " urgent ", "state": "", "source": None}, (("priority", "Critical"),)),
        ({"state": "In Progress", "source": "ZENDESK"}, (("state", "In Progress"), ("source", "zendesk"))),
        ({" Priority ": "low"}, (("priority", "Low"),)),
    ],
)
def test_filters_are_normalised_the_same_way_everywhere(filters, expected):
    assert check_list_request(filters).filters == expected


@pytest.mark.parametrize(
    ("filters", "dates", "message"),
    [
        ({}, {}, "at least one of priority, state, source"),
        ({"priority": "", "state": " ", "source": None}, {}, "at least one of"),
        ({"source": ""}, {}, "list by source needs a value"),
        ({"colour": "red"}, {}, "cannot list by 'colour'"),
        ({"source": "jira"}, {}, "unknown source 'jira'"),
        ({"priority": "whenever"}, {}, "'whenever' is not a priority"),
        ({"priority": "x" * 10_000}, {}, "is not a priority"),
        ({"state": "a\x00b"}, {}, "printable"),
        ({"state": "s" * 300}, {}, "at most 200"),
        ({"source": "slack"}, {"since": "yesterday"}, "--since needs a date"),
        ({"source": "slack"}, {"since": "9999-12-31T23:59:59-01:00"}, "--since needs a date"),
        ({"source": "slack"}, {"until": "0001-01-01T00:00:00+01:00"}, "--until needs a date"),
        ({"source": "slack"}, {"since": "2026-11-01T00:00:00+25:00"}, "--since needs a date"),
        ({"source": "slack"}, {"since": "2026-12-01", "until": "2026-11-01"}, "is after --until"),
    ],
)
def test_bad_filters_say_what_is_wrong(filters, dates, message):
    with pytest.raises(services.BugTrackerError) as error:  # UsageError, or InvalidPriority from the model
        check_list_request(filters, **dates)
    assert message in str(error.value) and len(str(error.value)) < 300


def test_dates_with_offsets_and_a_single_day_are_accepted():
    request = check_list_request({"source": "slack"}, since="2026-11-01T10:00:00+05:00", until="2026-11-01")
    assert request == ListRequest((("source", "slack"),), "2026-11-01T10:00:00+05:00", "2026-11-01")
    assert (
        check_list_request({"source": "slack"}, since="2026-11-01", until="2026-11-01").until == "2026-11-01"
    )


def test_the_api_names_its_parameters_without_dashes():
    with pytest.raises(UsageError, match="^since needs a date"):
        check_list_request({"source": "slack"}, since="soon", option="")


@pytest.mark.parametrize("text", ["²", "٣", "1.5", "-1", "0", "201", "1e3", " ", "10 20", "０"])
def test_a_limit_is_ascii_digits_in_range(text):
    if text.strip() == "":
        assert check_limit(text.strip(), 50, 200) == 50
        return
    with pytest.raises(UsageError, match="limit must be a whole number from 1 to 200"):
        check_limit(text, 50, 200)


def test_good_limits():
    assert (
        check_limit("7", 50, 200) == 7
        and check_limit(" 200 ", 50, 200) == 200
        and check_limit(None, 5, 9) == 5
    )
    assert check_limit(3, 50, 200) == 3
