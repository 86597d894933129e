"""Create from Slack, end to end: the bot as a process (real SocketModeHandler, real zenpy, the real Shortcut
client) between the fake Slack, the fake Shortcut and the fake Zendesk. A linker creates a Shortcut story
from one report's thread button and a Zendesk ticket from another's Link to ticket modal; each report lives
under its new id, its thread says so with a link, and a later change upstream reaches its status card."""

from __future__ import annotations

import json
import subprocess

import pytest

from bot.slack.create_blocks import MODAL_CALLBACK, OPEN_ACTION, SYSTEM_ACTION, TICKET_TYPE
from bot.slack.suggestion_blocks import SHORTCUT_CALLBACK
from storage.sqlite import SqliteStore
from tests.fakes.shortcut import FakeShortcut
from tests.fakes.slack_server import FakeSlack
from tests.fakes.zendesk import FakeZendesk
from tests.support.processes import child_env, start_entry_point, stop_bot

pytestmark = pytest.mark.slow
CHANNEL = "C0BUGS"
AUTHOR, LINKER = "U0ALICE", "U0BOSS"
INTERVAL = 10  # SYNC_INTERVAL_SECONDS, its smallest allowed value


def prefilled(view: dict) -> dict:
    """Slack's state.values for a form submitted as it was prefilled."""
    values = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        if element["type"] == "plain_text_input":
            state = {"type": element["type"], "value": element.get("initial_value")}
        else:
            state = {"type": element["type"], "selected_option": element.get("initial_option")}
        values[block["block_id"]] = {element["action_id"]: state}
    return values


def latest_form(slack: FakeSlack, count: int) -> dict:
    """The count-th create form the bot put in a modal (views.update)."""

    def forms() -> list[dict] | None:
        found = [u for u in slack.view_updates if u["view"].get("callback_id") == MODAL_CALLBACK]
        return found if len(found) >= count else None

    return slack.wait_for(forms, timeout=20)[count - 1]


def test_a_linker_creates_a_story_and_a_ticket_and_the_cards_follow_them(tmp_path):
    db_path = tmp_path / "bugs.db"
    store = SqliteStore(db_path)
    with (
        FakeSlack(members={CHANNEL: [AUTHOR, LINKER]}) as slack,
        FakeShortcut() as shortcut,
        FakeZendesk() as zd,
    ):
        env = child_env(
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_APP_TOKEN="xapp-test-token",
            SLACK_CHANNEL_ID=CHANNEL,
            SLACK_API_URL=slack.api_url,
            BUGTRACKER_DB=str(db_path),
            BUG_LINKERS=LINKER,
            SHORTCUT_API_TOKEN=shortcut.token,
            SHORTCUT_API_URL=shortcut.api_url,
            ZENDESK_SUBDOMAIN=zd.subdomain,
            ZENDESK_EMAIL=zd.email,
            ZENDESK_API_TOKEN=zd.token,
            ZENPY_FORCE_SCHEME="http",
            ZENPY_FORCE_NETLOC=zd.netloc,
            SYNC_INTERVAL_SECONDS=str(INTERVAL),
        )
        bot = start_entry_point("bot", cwd=tmp_path, env=env, stderr=subprocess.STDOUT)
        try:
            slack.wait_for(lambda: slack.connections, timeout=20)
            # 1. the thread button -> a Shortcut story
            first, _ = slack.post(CHANNEL, "Checkout button broken on Safari priority=high", AUTHOR)
            answer = slack.wait_for(lambda: slack.thread_of(CHANNEL, first["ts"]))[0]
            slack.push_block_action(CHANNEL, answer, OPEN_ACTION, LINKER)
            form = latest_form(slack, 1)
            slack.push_view_submission(
                {"view": form["view"], "view_id": form["view_id"]}, prefilled(form["view"]), LINKER
            )
            said = slack.wait_for(
                lambda: [m for m in slack.thread_of(CHANNEL, first["ts"]) if "Created SC-9001" in m["text"]],
                timeout=20,
            )[0]
            assert "this report now lives under SC-9001" in said["text"]
            assert "https://app.shortcut.com/acme/story/9001" in json.dumps(said["blocks"])
            assert store.get_record("slack", first["ts"]).ticket_id == "SC-9001"
            assert shortcut.stories[9001]["external_links"] == [store.get_record("slack", first["ts"]).url]

            # 2. the Link to ticket modal -> "Create a new ticket instead…" -> Zendesk
            second, _ = slack.post(CHANNEL, "Invoice PDF shows the wrong VAT", AUTHOR)
            slack.wait_for(lambda: slack.thread_of(CHANNEL, second["ts"]))
            slack.push_message_action(CHANNEL, second, SHORTCUT_CALLBACK, LINKER)
            link_view = slack.wait_for(
                lambda: [u for u in slack.view_updates if "create_instead" in json.dumps(u["view"])]
            )[-1]
            slack.push_view_action(LINKER, OPEN_ACTION, {**link_view["view"], "id": link_view["view_id"]})
            form = latest_form(slack, 2)
            slack.push_view_action(
                LINKER, SYSTEM_ACTION, {**form["view"], "id": form["view_id"]}, selected="zendesk"
            )
            form = latest_form(slack, 3)
            assert TICKET_TYPE in json.dumps(form["view"])
            slack.push_view_submission(
                {"view": form["view"], "view_id": form["view_id"]}, prefilled(form["view"]), LINKER
            )
            slack.wait_for(
                lambda: [m for m in slack.thread_of(CHANNEL, second["ts"]) if "Created ZD-5001" in m["text"]],
                timeout=20,
            )
            assert store.get_record("slack", second["ts"]).ticket_id == "ZD-5001"
            assert second_url_in_comment(zd, store.get_record("slack", second["ts"]).url)

            # 3. changes upstream reach both status cards from the next pull on
            shortcut.touch(9001, workflow_state_id=500000003)
            zd.touch(5001, status="solved")

            def cards() -> bool:
                story = " ".join(m["text"] for m in slack.thread_of(CHANNEL, first["ts"]))
                ticket = " ".join(m["text"] for m in slack.thread_of(CHANNEL, second["ts"]))
                return "In Development" in story and "solved" in ticket

            slack.wait_for(cards, timeout=3 * INTERVAL + 15)
        finally:
            output = stop_bot(bot)  # killed if it does not stop within the bound
        assert "xoxb-test-token" not in output and shortcut.token not in output and zd.token not in output
        assert "Traceback" not in output and "unexpected error" not in output, output


def second_url_in_comment(zendesk: FakeZendesk, permalink: str) -> bool:
    return permalink in zendesk.comments[5001][0]["plain_body"]  # what the agent reads
