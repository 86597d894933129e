"""Creating a story through the real HTTP client against the fake Shortcut, which checks the body as the
spec's CreateStoryParams and then serves the story from its search and GET /stories/{id}."""

from __future__ import annotations

import pytest

from adapters.create import CreateRefused, CreateUnknown, TicketDraft
from adapters.shortcut_create import ShortcutCreate
from adapters.shortcut_http import ShortcutHttp
from tests.fakes.shortcut import PRIORITY_FIELD_ID, STATES, FakeShortcut, shortcut_pull

PERMALINK = "https://example.slack.com/archives/C0BUGS/p1764300001000001"


@pytest.fixture
def fake():
    with FakeShortcut() as server:
        yield server


def creator(fake: FakeShortcut) -> ShortcutCreate:
    return ShortcutCreate(ShortcutHttp(fake.api_url, fake.token, backoff_factor=0.01, timeout=10))


def draft(**changes) -> TicketDraft:
    fields = dict(
        title="Checkout button broken", description="It fails.", permalink=PERMALINK, priority="High"
    )
    fields.update(changes)
    return TicketDraft(**fields)


def test_a_story_is_made_as_the_spec_says_and_served_by_the_next_pull(fake):
    record = creator(fake).create(draft(), "key-1")
    (body,) = fake.posts("/stories")
    assert body["name"] == "Checkout button broken" and body["story_type"] == "bug"
    assert body["external_links"] == [PERMALINK] and body["external_id"] == "key-1"
    # the default state: the default workflow's default_state_id; no project with it (one or the other)
    assert body["workflow_state_id"] == STATES[0][0] and "project_id" not in body
    # priority through the field whose canonical_name is priority, never the Severity field listed first
    assert [entry["field_id"] for entry in body["custom_fields"]] == [PRIORITY_FIELD_ID]
    assert record.home_id == "SC-9001" and record.priority == "High" and record.state == "Unscheduled"
    assert record.url == "https://app.shortcut.com/acme/story/9001"
    pulled = [r for page in shortcut_pull(fake).pull(None) for r in page.records]
    assert [r.home_id for r in pulled] == ["SC-9001"] and pulled[0].title == "Checkout button broken"


def test_choices_come_from_the_api_and_are_cached(fake):
    fake.add_group("5f0c0000-0000-4000-8000-0000000000aa", "Payments")
    shortcut = creator(fake)
    choices = shortcut.choices()
    assert choices.default_state_id == STATES[0][0]
    assert choices.groups == [("5f0c0000-0000-4000-8000-0000000000aa", "Payments")] and choices.projects == []
    assert set(choices.priority_values) == {"Critical", "High", "Medium", "Low"}
    shortcut.choices()
    assert fake.count("/workflows") == 1 and fake.count("/member") == 1


def test_team_and_state_are_sent_and_unknown_ones_are_refused_with_the_reason(fake):
    fake.add_group("5f0c0000-0000-4000-8000-0000000000aa", "Payments")
    shortcut = creator(fake)
    made = shortcut.create(
        draft(group_id="5f0c0000-0000-4000-8000-0000000000aa", workflow_state_id=STATES[2][0]), "k"
    )
    assert made.state == "In Development"
    with pytest.raises(CreateRefused, match=r"HTTP 422\): workflow state 123 does not exist"):
        shortcut.create(draft(workflow_state_id=123), "k2")
    assert len(fake.stories) == 1


def test_the_fake_refuses_what_the_spec_refuses(fake):
    http = ShortcutHttp(fake.api_url, fake.token, timeout=10)
    with pytest.raises(CreateRefused, match="HTTP 400"):
        http.create_json(f"{fake.api_url}/stories", {"description": "no name"})
    with pytest.raises(CreateRefused, match="HTTP 400"):
        http.create_json(f"{fake.api_url}/stories", {"name": "x", "colour": "red"})
    with pytest.raises(CreateRefused, match="HTTP 422"):
        field = {"field_id": PRIORITY_FIELD_ID, "value_id": "5f0c0000-0000-4000-8000-00000000ffff"}
        body = {"name": "x", "custom_fields": [field], "workflow_state_id": STATES[0][0]}
        http.create_json(f"{fake.api_url}/stories", body)
    assert fake.stories == {}


def test_refusals_are_one_line_and_a_read_only_token_names_the_role_it_needs(fake):
    shortcut = creator(fake)
    shortcut.choices()
    fake.read_only = True
    with pytest.raises(CreateRefused, match="Member, Admin or Owner role") as refused:
        shortcut.create(draft(), "k")
    assert "\n" not in str(refused.value) and fake.token not in str(refused.value)
    fake.read_only = False
    fake.inject(429, headers={"Retry-After": "7"})
    with pytest.raises(CreateRefused, match="HTTP 429.*nothing was created; try again in 7s"):
        shortcut.create(draft(), "k")
    fake.inject(503)
    with pytest.raises(CreateUnknown, match="HTTP 503"):
        shortcut.create(draft(), "k")
    assert fake.stories == {} and fake.count("/stories") == 3  # a POST is never retried


def test_a_story_is_found_again_by_its_key_and_read_by_id(fake):
    shortcut = creator(fake)
    shortcut.choices()  # read (and cached) before: the fault below meets the POST
    fake.inject(504, after=True)  # made, but the answer was lost
    with pytest.raises(CreateUnknown):
        shortcut.create(draft(), "key-lost")
    found = shortcut.find("key-lost", PERMALINK)
    assert found is not None and found.home_id == "SC-9001"
    assert shortcut.find("another-key", PERMALINK) is None
    assert shortcut.find("key-lost").home_id == "SC-9001"  # no permalink needed (console, CLI)
    assert fake.posts("/stories/search")[-1] == {"external_id": "key-lost"}
    assert shortcut.fetch(9001).title == "Checkout button broken"
    assert shortcut.fetch(424242) is None


def test_the_default_state_is_the_workflow_s_default_state_id_not_its_first_unstarted(fake):
    fake.default_state_id = STATES[1][0]  # an admin made "Ready for Development" the default
    shortcut = creator(fake)
    assert shortcut.choices().default_state_id == STATES[1][0]
    assert shortcut.create(draft(), "k").state == "Ready for Development"


def test_a_project_is_sent_alone_and_its_story_enters_the_default_state(fake):
    fake.add_project(77, "Checkout")
    fake.default_state_id = STATES[1][0]
    shortcut = creator(fake)
    made = shortcut.create(draft(project_id=77, workflow_state_id=STATES[2][0]), "k")
    (body,) = fake.posts("/stories")
    assert body["project_id"] == 77 and "workflow_state_id" not in body
    assert made.state == "Ready for Development" and fake.stories[9001]["project_id"] == 77


def test_the_fake_refuses_both_or_neither_state_and_project(fake):
    fake.add_project(77, "Checkout")
    http = ShortcutHttp(fake.api_url, fake.token, timeout=10)
    for body in ({"name": "x"}, {"name": "x", "project_id": 77, "workflow_state_id": STATES[0][0]}):
        with pytest.raises(CreateRefused, match="HTTP 422"):
            http.create_json(f"{fake.api_url}/stories", body)
    assert fake.stories == {}


def test_a_workflow_without_a_default_state_refuses_before_sending(fake):
    fake.default_state_id = None
    shortcut = creator(fake)
    with pytest.raises(CreateRefused, match="no default state"):
        shortcut.create(draft(), "k")
    assert fake.posts("/stories") == []
