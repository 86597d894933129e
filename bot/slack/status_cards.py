"""The Slack side of the status board (bot/slack/status_board.py): each report's status card in its thread.
The card is the bot's first thread reply (remembered when it is posted with a note to keep; otherwise found
again in the thread by its answer key, one conversations.replies, the first time the card is needed),
turned into a card and kept current with chat.update; a report without one (folded, answered before this
existed, or SLACK_THREAD_REPLIES=off) gets a new thread reply as its card. A change of state type also
posts one short thread reply, so that the reporter is notified (an edit notifies nobody). Pacing is the
client's (bot/slack/pacing.py): chat.update under its per-app Tier 3, posts one a second per channel. Posts
carry answer metadata and are read back when their outcome is unknown (bot/slack/answers.py), so a lost
reply never doubles a card or a notice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.answers import find_answer, first_answer_key, post_answer
from bot.slack.mrkdwn import fit_blocks, message_text, printable
from bot.slack.status_blocks import build_status_card, build_transition_blocks, card_text, transition_text
from bot.slack.status_board import Announcement, CardUnreachable, fingerprint

log = logging.getLogger(__name__)

# Slack errors after which a card can never be updated or posted where it is: retrying is pointless.
# message_not_found / cant_update_message are not among them: the card is posted again instead.
PERMANENT_ERRORS = frozenset({"is_archived", "channel_not_found", "not_in_channel", "edit_window_closed"})


class SlackStatusCards:
    """The Transport of bot/slack/status_board.py for Slack."""

    def __init__(self, client: WebClient, create_button: bool = False) -> None:
        self.client = client
        self.create_button = create_button  # cards of reports under no ticket offer "Create…"

    def announce(self, announcement: Announcement) -> dict[str, Any]:
        report, card = announcement.report, announcement.card
        channel = card.get("channel") or report.attributes.get("channel")
        if not channel:
            log.warning("status of %s: the report has no channel; nothing posted", report.home_id)
            return {}
        payload: dict[str, Any] = {
            "text": message_text(card_text(announcement)),
            "blocks": fit_blocks(build_status_card(announcement, self.create_button)),
        }
        try:
            return self._announce(announcement, channel, payload)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error in PERMANENT_ERRORS:
                raise CardUnreachable(error) from None
            raise

    def _announce(self, announcement: Announcement, channel: str, payload: dict[str, Any]) -> dict[str, Any]:
        report, ts = announcement.report, announcement.card.get("ts")
        if not ts:  # no card remembered: the first answer, read back from the thread by its key
            first = find_answer(
                self.client, channel, report.record_id, first_answer_key(channel, report.home_id)
            )
            ts = first["ts"] if first is not None else None
        if ts:
            try:
                # parse="none": our text is escaped mrkdwn, never for Slack to re-link (its default: client)
                self.client.chat_update(channel=channel, ts=ts, parse="none", **payload)
            except SlackApiError as exc:
                if exc.response.get("error") not in ("message_not_found", "cant_update_message"):
                    raise
                log.info("status card of %s is gone (%s): posting a new one", report.home_id, exc)
                ts = None
        key = f"status:{report.home_id}:{_digest(fingerprint(announcement.view))}"
        if not ts:
            ts = post_answer(self.client, channel, report.record_id, f"{key}:card", **payload)["ts"]
        if announcement.transitions:
            post_answer(
                self.client,
                channel,
                report.record_id,
                f"{key}:transition",
                text=message_text(transition_text(announcement)),
                blocks=build_transition_blocks(announcement),
            )
        return {"channel": channel, "ts": ts}


def _digest(shown: Any) -> str:
    """A short name for what a card shows: the same change announced twice is one answer key."""
    return hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()[:16]


class ConsoleStatus:
    """The Transport of bot/slack/status_board.py for the console: status changes printed as text."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def announce(self, announcement: Announcement) -> dict[str, Any]:
        report_id = announcement.report.home_id
        card = "\n  ".join(printable(line) for line in card_text(announcement).splitlines())
        lines = [f"[status] {report_id}: {card}"]
        if announcement.transitions:
            lines.append(f"[status] {report_id}: {printable(transition_text(announcement))}")
        lines.append(f"  (type /bug show {announcement.view.ticket_id} for everything under it)")
        self.write("\n".join(lines) + "\n")
        return {}
