"""The fake Shortcut speaks the real wire format: its JSON validates against the swagger definitions
(StorySearchResults, StorySearchResult, StorySlim, Workflow, CustomField, Story) in the Shortcut REST v3
swagger kept beside the fake (tests/fakes/shortcut.swagger.json)."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import pytest
import requests
from jsonschema import Draft4Validator, FormatChecker

from tests.fakes.shortcut import (
    BACKLOG_STATE,
    PRIORITY_FIELD_ID,
    STATES,
    SWAGGER,
    FakeShortcut,
    field_value,
)


def _nullable(node):
    """Swagger 2's `x-nullable: true` means JSON Schema's type [T, "null"]."""
    if isinstance(node, dict):
        node = {key: _nullable(value) for key, value in node.items()}
        if node.get("x-nullable") and "type" in node:
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        return node
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    return node


checker = FormatChecker()


@checker.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    return not isinstance(value, str) or bool(datetime.fromisoformat(value.replace("Z", "+00:00")))


@pytest.fixture(scope="module")
def validator_for():
    definitions = _nullable(json.loads(SWAGGER.read_text())["definitions"])

    def build(name):
        return Draft4Validator(
            {"$ref": f"#/definitions/{name}", "definitions": copy.deepcopy(definitions)},
            format_checker=checker,
        )

    return build


def _errors(validator, instance):
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(instance)]


def test_search_page_and_stories_match_the_schema(validator_for):
    with FakeShortcut() as fake:
        fake.add_story(1, external_links=["https://acme.zendesk.com/agent/tickets/3"])
        fake.add_story(
            2,
            labels=[],
            custom_fields=[
                {
                    "field_id": "6c8f1e0e-0000-4000-8000-000000000001",
                    "value_id": "6c8f1e0e-0000-4000-8000-000000000002",
                    "value": "High",
                }
            ],
        )
        fake.add_story(3, updated_at=None)
        headers = {"Shortcut-Token": fake.token}
        page = requests.get(
            f"{fake.api_url}/search/stories",
            params={"query": "type:bug", "page_size": 2},
            headers=headers,
            timeout=5,
        ).json()
        workflows = requests.get(f"{fake.api_url}/workflows", headers=headers, timeout=5).json()
    assert _errors(validator_for("StorySearchResults"), page) == []
    for story in page["data"]:
        assert _errors(validator_for("StorySlim"), story) == []
        assert _errors(validator_for("StorySearchResult"), story) == []
    assert page["next"] and page["total"] == 3
    for workflow in workflows:
        assert _errors(validator_for("Workflow"), workflow) == []


def test_the_validator_catches_a_wrong_shape(validator_for):
    story = FakeShortcut().add_story(1)
    broken = dict(story, id="1", external_links="https://x")
    del broken["app_url"]
    errors = _errors(validator_for("StorySlim"), broken)
    assert len(errors) == 3, errors


def test_custom_fields_and_a_full_story_match_the_schema(validator_for):
    with FakeShortcut() as fake:
        fake.add_story(5, custom_fields=[field_value(PRIORITY_FIELD_ID, "High")], archived=True)
        headers = {"Shortcut-Token": fake.token}
        fields = requests.get(f"{fake.api_url}/custom-fields", headers=headers, timeout=5).json()
        story = requests.get(f"{fake.api_url}/stories/5", headers=headers, timeout=5).json()
        workflows = requests.get(f"{fake.api_url}/workflows", headers=headers, timeout=5).json()
    assert [field.get("canonical_name") for field in fields] == ["severity", "priority", None]
    for field in fields:
        assert _errors(validator_for("CustomField"), field) == []
    assert _errors(validator_for("Story"), story) == []
    assert BACKLOG_STATE[2] in {state["type"] for state in workflows[0]["states"]}


def test_member_date_time_search_and_the_cap_error_match_the_schema(validator_for):
    with FakeShortcut() as fake:
        for story_id in range(1, 4):
            fake.add_story(story_id, archived=story_id == 2)
        headers = {"Shortcut-Token": fake.token}
        member = requests.get(f"{fake.api_url}/member", headers=headers, timeout=5).json()
        body = {"story_type": "bug", "updated_at_start": "2024-12-31T00:00:00Z"}
        found = requests.post(f"{fake.api_url}/stories/search", json=body, headers=headers, timeout=5)
        refused = requests.post(
            f"{fake.api_url}/stories/search", json={"updated_since": "x"}, headers=headers, timeout=5
        )
        fake.max_results = 1
        search = {"query": "type:bug", "page_size": 1}
        first = requests.get(f"{fake.api_url}/search/stories", params=search, headers=headers, timeout=5)
        past = requests.get(f"{fake.base_url}{first.json()['next']}", headers=headers, timeout=5)
    assert _errors(validator_for("MemberInfo"), member) == []
    assert member["workspace2"]["utc_offset"] == "-08:00"
    assert found.status_code == 201 and [story["id"] for story in found.json()] == [1, 2, 3]
    for story in found.json():
        assert _errors(validator_for("StorySlim"), story) == []
    assert refused.status_code == 400  # SearchStories allows no other property
    assert first.json()["total"] == 3  # archived stories are search results too
    assert past.status_code == 400
    assert _errors(validator_for("MaxSearchResultsExceededError"), past.json()) == []


def test_create_params_and_the_created_story_groups_and_links_match_the_schema(validator_for):
    params = {
        "name": "Checkout broken",
        "description": "It fails.",
        "story_type": "bug",
        "workflow_state_id": STATES[0][0],
        "external_links": ["https://example.slack.com/archives/C0BUGS/p1"],
        "external_id": "key-1",
        "custom_fields": [
            {"field_id": PRIORITY_FIELD_ID, "value_id": field_value(PRIORITY_FIELD_ID, "High")["value_id"]}
        ],
    }
    assert _errors(validator_for("CreateStoryParams"), params) == []  # what adapters/shortcut_create sends
    with FakeShortcut() as fake:
        fake.add_group("5f0c0000-0000-4000-8000-0000000000aa", "Payments")
        fake.add_project(7, "Web")
        headers = {"Shortcut-Token": fake.token}
        created = requests.post(f"{fake.api_url}/stories", json=params, headers=headers, timeout=5)
        linked = requests.get(
            f"{fake.api_url}/external-link/stories",
            params={"external_link": params["external_links"][0]},
            headers=headers,
            timeout=5,
        ).json()
        groups = requests.get(f"{fake.api_url}/groups", headers=headers, timeout=5).json()
        projects = requests.get(f"{fake.api_url}/projects", headers=headers, timeout=5).json()
    assert created.status_code == 201 and _errors(validator_for("Story"), created.json()) == []
    assert [story["id"] for story in linked] == [created.json()["id"]]
    for story in linked:
        assert _errors(validator_for("StorySlim"), story) == []
    assert groups and projects  # their shapes: only the fields the adapter reads are modelled
