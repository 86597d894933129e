"""The daily digest's Slack side: the channel rule (bot/slack/readers.py) and the post (paced client)."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.digest import Digest
from bot.slack.digest_blocks import digest_payload
from bot.slack.readers import Readers, ReadersUnavailable
from storage.model import BugRecord

log = logging.getLogger(__name__)

# A stand-in Zendesk record: may a ticket be shown to everyone in a channel? (no guest or outsider there)
_TICKET = BugRecord("zendesk", "0", "", "")


class SlackDigest:
    def __init__(self, client: WebClient, readers: Readers) -> None:
        self.client = client
        self.readers = readers

    def tickets_fit(self, channel: str) -> bool:
        try:
            return self.readers.fits_channel(channel, _TICKET, strict=True)
        except ReadersUnavailable as exc:  # Slack cannot say who is there: tickets are left out
            log.warning("digest in %s without tickets: %s", channel, exc)
            return False

    def post(self, digest: Digest) -> None:
        self.client.chat_postMessage(unfurl_links=False, unfurl_media=False, **digest_payload(digest))
