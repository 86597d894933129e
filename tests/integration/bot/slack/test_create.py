"""Creating from Slack through the real Bolt App on the fake Slack, with the fake Shortcut and Zendesk over
HTTP: the "Create…" button, the prefilled modal and its system switch, validation within Slack's 3 seconds,
the thread answer, refusals in one line, `/bug create` and the Link to ticket modal's way in."""

import json
import logging
import threading
import time

import pytest
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from adapters.shortcut_create import ShortcutCreate
from adapters.shortcut_http import ShortcutHttp
from adapters.zendesk_create import ZendeskCreate
from adapters.zendesk_pull import build_zendesk_client
from bot.config import SlackConfig
from bot.slack.create_blocks import (
    CONFIRM,
    DESCRIPTION,
    MODAL_CALLBACK,
    OPEN_ACTION,
    PRIORITY,
    REQUESTER,
    STATE,
    SYSTEM_ACTION,
    TICKET_TYPE,
    TITLE,
)
from bot.slack.readers import ReaderScope
from bot.slack.suggestion_blocks import SHORTCUT_CALLBACK
from bot.tickets.upstreams import Upstreams
from tests.fakes.shortcut import STATES, FakeShortcut
from tests.fakes.slack_server import FakeSlack
from tests.fakes.zendesk import FakeZendesk, point_zenpy_at, zendesk_config
from tests.integration.bot.slack.test_listeners import event_request
from tests.support.slack_app import build_app
from tests.support.waiting import wait_until

CHANNEL, PRIVATE = "C0BUGS", "G0PAY"
LINKER, OTHER = "U0BOSS", "U0ALICE"


@pytest.fixture
def world(sqlite_store, monkeypatch):
    with (
        FakeSlack(members={CHANNEL: [LINKER, OTHER], PRIVATE: [LINKER, OTHER]}) as slack,
        FakeShortcut() as shortcut,
        FakeZendesk() as zd,
    ):
        point_zenpy_at(zd, monkeypatch)
        upstreams = Upstreams(
            shortcut=ShortcutCreate(
                ShortcutHttp(shortcut.api_url, shortcut.token, backoff_factor=0.01, timeout=10)
            ),
            zendesk=ZendeskCreate(
                build_zendesk_client(zendesk_config(zd), backoff_factor=0.01), zd.subdomain
            ),
        )
        channels = (CHANNEL, PRIVATE)
        config = SlackConfig("xoxb-test-token", "xapp-test-token", channels, slack.api_url, (LINKER,), True)
        client = WebClient(token="xoxb-test-token", base_url=slack.api_url)
        app, _ = build_app(config, sqlite_store, client, upstreams=upstreams)
        yield app, slack, shortcut, zd, sqlite_store


def report(app, slack, text="Checkout button broken priority=high", channel=CHANNEL):
    """A report posted in the channel: stored and answered (the answer carries the Create… button)."""
    message = slack.message(channel, text, OTHER)
    app.dispatch(event_request({**message, "channel": channel}))
    answer = slack.wait_for(lambda: [p for p in slack.posts if p.get("thread_ts") == message["ts"]])[0]
    return message, answer


def blocks_of(posted):
    blocks = posted.get("blocks")
    return json.loads(blocks) if isinstance(blocks, str) else blocks or []


def press(slack, posted, thread_ts, user, channel=CHANNEL):
    """A person presses Create… on the bot's answer."""
    button = next(e for b in blocks_of(posted) if b.get("type") == "actions" for e in b["elements"]
                  if e["action_id"] == OPEN_ACTION)  # fmt: skip
    body = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T0FAKE"}, "api_app_id": "A0FAKE",
            "trigger_id": slack.new_trigger(), "channel": {"id": channel},
            "container": {"type": "message", "message_ts": "1.0", "channel_id": channel},
            "message": {"ts": "1.0", "thread_ts": thread_ts, "blocks": blocks_of(posted)},
            "response_url": f"{slack.api_url.removesuffix('/api/')}/respond/{time.time_ns()}",
            "actions": [{**button, "block_id": "create-actions", "action_ts": "1.1"}]}  # fmt: skip
    return BoltRequest(body=body, mode="socket_mode")


def form(slack, count=1):
    """The count-th views.update (the filled form), waited for."""
    return slack.wait_for(lambda: slack.view_updates[count - 1] if len(slack.view_updates) >= count else None)


def inputs(view):
    return {b["block_id"]: b["element"] for b in view["view"]["blocks"] if b.get("type") == "input"}


def submit(view, values, user=LINKER):
    state = {block: {block: value} for block, value in values.items()}
    body = {"type": "view_submission", "team": {"id": "T0FAKE"}, "user": {"id": user}, "api_app_id": "A0FAKE",
            "trigger_id": "t", "view": {**view["view"], "id": view["view_id"], "callback_id": MODAL_CALLBACK,
                                        "state": {"values": state}}}  # fmt: skip
    return BoltRequest(body=body, mode="socket_mode")


def filled(element):
    """What the prefilled element submits as it is."""
    if element["type"] == "plain_text_input":
        return {"type": "plain_text_input", "value": element.get("initial_value")}
    return {"type": element["type"], "selected_option": element.get("initial_option")}


def as_submitted(view, **changes):
    values = {block: filled(element) for block, element in inputs(view).items()}
    for block, value in changes.items():
        values[block] = value
    return values


def test_the_button_opens_a_prefilled_form_that_creates_a_story_and_links_the_report(world):
    app, slack, shortcut, _, store = world
    message, answer = report(app, slack)
    app.dispatch(press(slack, answer, message["ts"], LINKER))
    opened = slack.wait_for(lambda: slack.views)[0]
    assert "Preparing" in json.dumps(opened["view"])
    view = form(slack)
    fields = inputs(view)
    assert CONFIRM not in fields  # a public channel's report: no question
    assert fields[TITLE]["initial_value"] == "Checkout button broken"
    assert fields[PRIORITY]["initial_option"]["value"] == "High"
    assert fields[STATE]["initial_option"]["value"] == str(STATES[0][0])  # first unstarted, default workflow
    assert f"SL-{message['ts']}" in fields[DESCRIPTION]["initial_value"]
    response = app.dispatch(submit(view, as_submitted(view)))
    assert json.loads(response.body)["response_action"] == "update"
    done = form(slack, 2)
    assert "Created SC-9001 in Shortcut" in json.dumps(done["view"])
    thread = slack.wait_for(lambda: [p for p in slack.posts if "Created SC-9001" in p.get("text", "")])
    assert "this report now lives under SC-9001" in thread[0]["text"]
    assert "https://app.shortcut.com/acme/story/9001" in json.dumps(blocks_of(thread[0]))
    assert store.get_record("slack", message["ts"]).ticket_id == "SC-9001"
    assert shortcut.posts("/stories")[0]["external_links"] == [store.get_record("slack", message["ts"]).url]


def test_the_system_select_switches_the_form_keeping_what_was_typed_and_creates_a_ticket(world):
    app, slack, _, zendesk, store = world
    message, answer = report(app, slack)
    app.dispatch(press(slack, answer, message["ts"], LINKER))
    view = form(slack)
    title = {"type": "plain_text_input", "value": "Typed title"}
    typed = {
        **view["view"],
        "id": view["view_id"],
        "hash": "h1",
        "state": {"values": {TITLE: {TITLE: title}}},
    }
    body = {"type": "block_actions", "user": {"id": LINKER}, "team": {"id": "T0FAKE"}, "api_app_id": "A0FAKE",
            "container": {"type": "view", "view_id": view["view_id"]}, "trigger_id": slack.new_trigger(),
            "view": typed, "actions": [{"action_id": SYSTEM_ACTION, "block_id": "create_where",
                                        "type": "static_select",
                                        "selected_option": {"value": "zendesk"}}]}  # fmt: skip
    app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    switched = form(slack, 2)
    fields = inputs(switched)
    assert fields[TITLE]["initial_value"] == "Typed title" and TICKET_TYPE in fields and STATE not in fields
    values = as_submitted(
        switched, **{TICKET_TYPE: {"type": "radio_buttons", "selected_option": {"value": "incident"}}}
    )
    app.dispatch(submit(switched, values))
    form(slack, 3)
    ticket = zendesk.posts("/tickets.json")[0]["ticket"]
    assert (
        ticket["subject"] == "Typed title" and ticket["type"] == "incident" and ticket["priority"] == "high"
    )
    assert store.get_record("slack", message["ts"]).ticket_id == "ZD-5001"


def test_invalid_fields_are_answered_in_the_modal_within_three_seconds(world):
    """Within Slack's 3 s however slow Shortcut or Zendesk are: the checks ask neither of them."""
    app, slack, shortcut, zendesk, store = world
    message, answer = report(app, slack)
    app.dispatch(press(slack, answer, message["ts"], LINKER))
    view = form(slack)
    values = as_submitted(view, **{TITLE: {"type": "plain_text_input", "value": "  "}})
    asked = (len(shortcut.requests), len(zendesk.requests))
    response = app.dispatch(submit(view, values))
    assert (len(shortcut.requests), len(zendesk.requests)) == asked
    answer_body = json.loads(response.body)
    assert answer_body["response_action"] == "errors" and TITLE in answer_body["errors"]
    # and a Zendesk requester that is no email
    meta = json.loads(view["view"]["private_metadata"])
    zendesk_view = {
        **view,
        "view": {**view["view"], "private_metadata": json.dumps({**meta, "system": "zendesk"})},
    }
    values = {TITLE: {"type": "plain_text_input", "value": "t"},
              REQUESTER: {"type": "plain_text_input", "value": "ann@"}}  # fmt: skip
    assert REQUESTER in json.loads(app.dispatch(submit(zendesk_view, values)).body)["errors"]
    assert shortcut.posts("/stories") == [] and store.get_record("slack", message["ts"]).ticket_id.startswith(
        "SL-"
    )


def test_a_non_linker_is_refused_in_the_modal(world):
    app, slack, shortcut, _, store = world
    message, answer = report(app, slack)
    app.dispatch(press(slack, answer, message["ts"], OTHER))  # the author, not in BUG_LINKERS
    refused = form(slack)
    assert "only the people and groups in BUG_LINKERS may" in json.dumps(refused["view"])
    assert refused["view"].get("callback_id") != MODAL_CALLBACK and shortcut.posts("/stories") == []


def test_two_submissions_at_once_make_one_story(world):
    app, slack, shortcut, _, store = world
    message, answer = report(app, slack)
    app.dispatch(press(slack, answer, message["ts"], LINKER))
    view = form(slack)
    shortcut.delay = 0.3
    threads = [
        threading.Thread(target=app.dispatch, args=(submit(view, as_submitted(view)),)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = slack.wait_for(lambda: slack.view_updates[1:] if len(slack.view_updates) >= 3 else None)
    shown = json.dumps([o["view"] for o in outcomes])
    assert "Created SC-9001" in shown and ("right now" in shown or "already lives under SC-9001" in shown)
    assert len(shortcut.posts("/stories")) == 1 and len(shortcut.stories) == 1


@pytest.mark.parametrize("status, line", [(422, "Shortcut refused it (HTTP 422)"), (503, "HTTP 503")])
def test_a_refusal_upstream_is_one_line_and_leaves_the_report(world, status, line):
    app, slack, shortcut, _, store = world
    message, answer = report(app, slack)
    app.dispatch(press(slack, answer, message["ts"], LINKER))
    view = form(slack)
    shortcut.inject(status, body={"message": "Unprocessable"}, times=1 if status == 422 else 7)
    app.dispatch(submit(view, as_submitted(view)))
    outcome = form(slack, 2)
    text = outcome["view"]["blocks"][0]["text"]["text"]
    assert text.startswith("Nothing was created: ") and line in text and "\n" not in text
    assert store.get_record("slack", message["ts"]).ticket_id == f"SL-{message['ts']}"
    assert not [p for p in slack.posts if "Created" in p.get("text", "")]


def test_bug_create_opens_the_form_of_that_system(world):
    app, slack, _, _, _ = world
    message, _ = report(app, slack)
    body = {"command": "/bug", "text": f"create zendesk SL-{message['ts']}", "user_id": LINKER,
            "team_id": "T0FAKE", "channel_id": CHANNEL, "trigger_id": slack.new_trigger(),
            "api_app_id": "A0FAKE",
            "response_url": f"{slack.api_url.removesuffix('/api/')}/respond/{time.time_ns()}"}  # fmt: skip
    app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    view = form(slack)
    assert TICKET_TYPE in inputs(view) and json.loads(view["view"]["private_metadata"])["system"] == "zendesk"


def test_the_link_modal_offers_to_create_instead(world):
    app, slack, shortcut, _, store = world
    message = slack.message(CHANNEL, "Search returns nothing", OTHER)
    body = {"type": "message_action", "callback_id": SHORTCUT_CALLBACK, "trigger_id": slack.new_trigger(),
            "team": {"id": "T0FAKE"}, "user": {"id": LINKER}, "channel": {"id": CHANNEL},
            "message_ts": message["ts"], "message": message, "api_app_id": "A0FAKE",
            "response_url": f"{slack.api_url.removesuffix('/api/')}/respond/{time.time_ns()}"}  # fmt: skip
    app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    link_view = form(slack)
    slack.wait_for(lambda: slack.view_updates and slack.view_updates[0])
    button = next(e for b in link_view["view"]["blocks"] if b.get("type") == "actions" for e in b["elements"]
                  if e["action_id"] == OPEN_ACTION)  # fmt: skip
    body = {"type": "block_actions", "user": {"id": LINKER}, "team": {"id": "T0FAKE"}, "api_app_id": "A0FAKE",
            "container": {"type": "view", "view_id": link_view["view_id"]}, "trigger_id": slack.new_trigger(),
            "view": {**link_view["view"], "id": link_view["view_id"], "type": "modal"},
            "actions": [{**button, "block_id": "create_instead", "action_ts": "1.1"}]}  # fmt: skip
    app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    created_form = slack.wait_for(
        lambda: next((u for u in slack.view_updates if u["view"].get("callback_id") == MODAL_CALLBACK), None)
    )
    assert created_form["view_id"] == link_view["view_id"]  # the same modal became the form
    assert inputs(created_form)[TITLE]["initial_value"] == "Search returns nothing"


def test_closing_the_modal_mid_create_still_leaves_the_thread_answer(world, caplog):
    caplog.set_level(logging.INFO, logger="bot.slack.views")
    app, slack, shortcut, _, store = world
    message, answer = report(app, slack)
    app.dispatch(press(slack, answer, message["ts"], LINKER))
    view = form(slack)
    shortcut.delay = 0.5  # the story takes a while: the person closes "Creating it in Shortcut…"
    response = app.dispatch(submit(view, as_submitted(view)))
    assert json.loads(response.body)["response_action"] == "update"
    slack.close_view(view["view_id"])
    thread = slack.wait_for(lambda: [p for p in slack.posts if "Created SC-9001" in p.get("text", "")])
    assert "this report now lives under SC-9001" in thread[0]["text"]
    assert store.get_record("slack", message["ts"]).ticket_id == "SC-9001"
    wait_until(lambda: any("not_found" in r.getMessage() for r in caplog.records))
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert len(slack.view_updates) == 1  # only the form: the outcome met a closed modal, quietly


def suggest(view, block, typed, user=LINKER):
    """A person types into an external_select: Slack's block_suggestion, answered by app.options."""
    body = {"type": "block_suggestion", "user": {"id": user}, "team": {"id": "T0FAKE"},
            "api_app_id": "A0FAKE", "action_id": block, "block_id": block, "value": typed,
            "container": {"type": "view", "view_id": view["view_id"]},
            "view": {**view["view"], "id": view["view_id"]}}  # fmt: skip
    return BoltRequest(body=body, mode="socket_mode")


def test_with_300_projects_the_form_offers_project_299_and_the_story_lands_there(world):
    app, slack, shortcut, _, store = world
    for number in range(1, 301):
        shortcut.add_project(number, f"Project {number:03d}")
    message, answer = report(app, slack)
    app.dispatch(press(slack, answer, message["ts"], LINKER))
    view = form(slack)
    project = inputs(view)["create_project"]
    assert project["type"] == "external_select" and "options" not in project
    assert inputs(view)[STATE]["initial_option"]["value"] == str(STATES[0][0])  # the default preselected
    offered = json.loads(app.dispatch(suggest(view, "create_project", "project 29")).body)["options"]
    assert [o["value"] for o in offered] == [
        str(n) for n in range(290, 300)
    ]  # "Project 029" holds no "project 29"
    first = json.loads(app.dispatch(suggest(view, "create_project", "")).body)["options"]
    assert len(first) == 100 and first[0]["text"]["text"] == "Project 001"
    chosen = next(o for o in offered if o["value"] == "299")
    values = as_submitted(view, create_project={"type": "external_select", "selected_option": chosen})
    app.dispatch(submit(view, values))
    slack.wait_for(lambda: [p for p in slack.posts if "Created SC-9001" in p.get("text", "")])
    assert shortcut.stories[9001]["project_id"] == 299
    assert store.get_record("slack", message["ts"]).ticket_id == "SC-9001"
    (body,) = [b for path, b in shortcut.posted if path.endswith("/stories")]
    assert body["project_id"] == 299 and "workflow_state_id" not in body


def test_a_private_report_asks_before_it_copies_and_its_story_stays_with_its_readers(world):
    app, slack, shortcut, _, store = world
    message, answer = report(app, slack, channel=PRIVATE)
    app.dispatch(press(slack, answer, message["ts"], LINKER, channel=PRIVATE))
    view = form(slack)
    assert "This report is from a private channel" in json.dumps(view["view"]) and CONFIRM in inputs(view)
    refused = json.loads(app.dispatch(submit(view, as_submitted(view))).body)
    assert refused["response_action"] == "errors" and CONFIRM in refused["errors"]
    assert shortcut.posts("/stories") == []  # nothing copied without the confirmation
    ticked = {"type": "checkboxes", "selected_options": [{"value": "copy"}]}
    response = app.dispatch(submit(view, as_submitted(view, **{CONFIRM: ticked})))
    assert json.loads(response.body)["response_action"] == "update"
    wait_until(lambda: store.get_record("slack", message["ts"]).ticket_id == "SC-9001")
    story = store.get_record("shortcut", "9001")
    assert story.attributes["visible_to"] == PRIVATE  # until a pull writes it again
    assert ReaderScope(frozenset({PRIVATE})).may_read(story)
    assert not ReaderScope(frozenset({CHANNEL})).may_read(story)  # readers of another bug channel: no


def test_closing_checking_the_report_at_once_is_quiet(world, caplog):
    caplog.set_level(logging.INFO, logger="bot.slack.views")
    app, slack, _, _, _ = world
    message = slack.message(CHANNEL, "Search returns nothing", OTHER)
    slack.close_at_once = True  # the person closes "Checking the report…" before it fills
    body = {"type": "message_action", "callback_id": SHORTCUT_CALLBACK, "trigger_id": slack.new_trigger(),
            "team": {"id": "T0FAKE"}, "user": {"id": LINKER}, "channel": {"id": CHANNEL},
            "message_ts": message["ts"], "message": message, "api_app_id": "A0FAKE",
            "response_url": f"{slack.api_url.removesuffix('/api/')}/respond/{time.time_ns()}"}  # fmt: skip
    app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    wait_until(lambda: any("not_found" in r.getMessage() for r in caplog.records))
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert slack.view_updates == [] and not slack.ephemerals  # no "Sorry, something went wrong"
