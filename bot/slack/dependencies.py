"""What the Slack listeners work with: one object, built once by bot/bootstrap.py and handed to each
feature's `register(app, deps)` (bot/slack/listeners/)."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk import WebClient

from bot.config import SlackConfig
from bot.slack.delivery import Delivery
from bot.slack.intake import Intake
from bot.slack.readers import Readers
from bot.slack.status_board import StatusBoard
from bot.suggest.service import Suggester
from bot.tickets.link import ActorOf
from bot.tickets.upstreams import NO_UPSTREAMS, Upstreams
from storage.store import BugStore


@dataclass(frozen=True)
class SlackDeps:
    config: SlackConfig
    store: BugStore  # the observed store (every write keeps the suggestion index current)
    client: WebClient  # the one paced client of the process (bot/slack/web_client.py)
    intake: Intake
    readers: Readers  # who may read what, and what may be posted where (bot/slack/readers.py)
    delivery: Delivery  # a bug-channel event stored at once, its answer queued (posted at Slack's pace)
    actor_of: ActorOf  # who may link, create and delete: bot/tickets/link.py's one rule (the readers')
    upstreams: Upstreams = field(default=NO_UPSTREAMS)
    suggester: Suggester | None = None
    board: StatusBoard | None = None  # None: SLACK_STATUS_UPDATES=off

    @property
    def channels(self) -> tuple[str, ...]:
        return self.config.channel_ids
