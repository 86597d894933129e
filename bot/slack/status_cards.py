"""The Slack side of the status board (bot/slack/status_board.py): each report's status card in its thread.

The card is the bot's first thread reply (remembered when it is posted), turned into a card and kept
current with chat.update; a report without one (answered before this existed, or SLACK_THREAD_REPLIES=off)
gets a new thread reply as its card. A change of state type also posts one short thread reply, so that the
reporter is notified (an edit notifies nobody). Posting is paced to one call a second per channel, Slack's
posting rate; a 429 beyond that is retried by the WebClient's RateLimitErrorRetryHandler.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack.mrkdwn import fit_blocks, message_text, printable
from bot.slack.status_blocks import build_status_card, build_transition_blocks, card_text, transition_text
from bot.slack.status_board import Announcement

log = logging.getLogger(__name__)

SECONDS_PER_MESSAGE = 1.0  # Slack: about one message a second per channel


class ChannelPacer:
    """Blocks until `interval` seconds have passed since the previous call for the same channel."""

    def __init__(
        self,
        interval: float = SECONDS_PER_MESSAGE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval, self.clock, self.sleep = interval, clock, sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        with self._lock:
            now = self.clock()
            at = max(now, self._next.get(channel, now))
            self._next[channel] = at + self.interval
        if at > now:
            self.sleep(at - now)


class SlackStatusCards:
    """The Transport of bot/slack/status_board.py for Slack."""

    def __init__(self, client: Any, pacer: ChannelPacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or ChannelPacer()

    def announce(self, announcement: Announcement) -> dict[str, Any]:
        report, card = announcement.report, announcement.card
        channel = card.get("channel") or report.attributes.get("channel")
        if not channel:
            log.warning("status of %s: the report has no channel; nothing posted", report.home_id)
            return {}
        payload = {
            "text": message_text(card_text(announcement)),
            "blocks": fit_blocks(build_status_card(announcement)),
        }
        ts = card.get("ts")
        if ts:
            self.pacer.wait(channel)
            try:
                self.client.chat_update(channel=channel, ts=ts, **payload)
            except SlackApiError as exc:
                if exc.response.get("error") not in ("message_not_found", "cant_update_message"):
                    raise
                log.info("status card of %s is gone (%s): posting a new one", report.home_id, exc)
                ts = None
        if not ts:
            self.pacer.wait(channel)
            ts = self.client.chat_postMessage(channel=channel, thread_ts=report.record_id, **payload)["ts"]
        if announcement.transitions:
            self.pacer.wait(channel)
            self.client.chat_postMessage(
                channel=channel,
                thread_ts=report.record_id,
                text=message_text(transition_text(announcement)),
                blocks=build_transition_blocks(announcement),
            )
        return {"channel": channel, "ts": ts}


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
