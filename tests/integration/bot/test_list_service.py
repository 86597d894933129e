"""services.list_bugs / no_match, shared by `bugtracker list` and the drill-down API, on both stores:
states in any case, filters that combine, and an empty answer naming the store and the closest values."""

from __future__ import annotations

import pytest

from bot import services
from tests.support.builders import shortcut_record, slack_record, zendesk_record


@pytest.fixture
def filled(store):
    store.upsert_many(
        [
            zendesk_record(1, status="solved", priority="High"),
            zendesk_record(2, status="solved", priority="Low"),
            zendesk_record(3, status="open", priority="High"),
            shortcut_record(4, state="In Progress", priority="High"),
            shortcut_record(5, state="Ready for QA"),
            slack_record(6, priority="High"),
        ]
    )
    return store


def _ids(store, **filters) -> list[str]:
    request = services.check_list_request(filters, required=False)
    return [record.ticket_id for record in services.list_bugs(store, request).records]


@pytest.mark.parametrize("typed", ["solved", "Solved", "SOLVED", " solved "])
def test_a_state_in_any_case(filled, typed):
    assert _ids(filled, state=typed) == ["ZD-2", "ZD-1"]


def test_a_state_of_several_words_in_any_case(filled):
    assert _ids(filled, state="in progress") == ["SC-4"]
    assert _ids(filled, state="READY FOR QA") == ["SC-5"]


def test_filters_combine_and_none_lists_everything(filled):
    assert _ids(filled, priority="p1", state="Solved") == ["ZD-1"]
    assert _ids(filled, priority="high", source="Zendesk") == ["ZD-3", "ZD-1"]
    assert _ids(filled, priority="High", state="open", source="shortcut") == []
    assert len(_ids(filled)) == 6
    assert _ids(filled, priority="", state=None) == _ids(filled)


def test_two_stored_spellings_of_one_state_are_a_question_not_a_guess(filled):
    filled.upsert(shortcut_record(7, state="Open", state_type="unstarted"))
    assert _ids(filled, state="open") == ["ZD-3"]  # typed exactly as one of them: that one
    assert _ids(filled, state="Open") == ["SC-7"]
    with pytest.raises(services.UsageError, match="state 'OPEN' is stored as Open, open; give one exactly"):
        _ids(filled, state="OPEN")


def test_no_match_names_the_store_and_the_closest_states(filled):
    request = services.check_list_request({"state": "solvd"})
    message = services.no_match(filled, request)
    assert message.startswith(f"no bugs match state solvd in the {filled.description}; ")
    assert message.endswith("no bug has state 'solvd'; closest: solved")


def test_no_match_of_known_values_names_the_combination(filled):
    request = services.check_list_request({"priority": "High", "state": "open", "source": "shortcut"})
    assert services.no_match(filled, request) == (
        f"no bugs match priority High, state open, source shortcut in the {filled.description}"
    )


def test_no_match_without_anything_close_lists_what_is_stored(filled):
    message = services.no_match(filled, services.check_list_request({"priority": "Critical"}))
    assert message.endswith("no bug has priority 'Critical'; known: High, Low")
    message = services.no_match(filled, services.check_list_request({"state": "xyzzy"}))
    assert message.endswith("known: In Progress, Ready for QA, open, solved")


def test_an_empty_store_says_so(store):
    message = services.no_match(store, services.check_list_request({}, required=False))
    assert message == f"no bugs are stored yet in the {store.description}"
