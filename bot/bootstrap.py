"""The one place that builds things from config: the store and its DynamoDB client, the Slack Web API client
and Bolt app, the Zendesk / Shortcut pull sources, the sync scheduler and the metrics server.

Nothing is built at import time, and nothing below this module imports it: the entry points (`bot/run.py`,
`bot/cli/`) call it and hand what it built to the code that uses it; tests pass their own in. Scripts call
`open_store()`."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.config import Config, SlackConfig, load_config, load_env_file
from storage.model import BugRecord
from storage.store import BugStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from slack_bolt import App
    from slack_sdk import WebClient

    from adapters.pull import SyncSource
    from bot.digest import DigestWorker
    from bot.metrics.access import Access
    from bot.metrics.server import BotStatusLike, MetricsServer
    from bot.slack.intake import Intake
    from bot.slack.status_board import StatusBoard
    from bot.suggest.service import Suggester
    from bot.sync.changes import ChangeNotifier
    from bot.sync.scheduler import SyncScheduler
    from bot.tickets.notes import SupportNotes
    from bot.tickets.upstreams import Upstreams

log = logging.getLogger(__name__)


def build_dynamodb_client(config: Config) -> DynamoDBClient:
    """A boto3 DynamoDB client with botocore's standard retry mode.

    The endpoint comes from boto3's own settings: AWS_ENDPOINT_URL_DYNAMODB points it at a local endpoint
    (moto, DynamoDB Local) with no code change.
    """
    import boto3
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import BotoCoreError

    from storage.dynamodb_items import map_botocore_error

    boto_config = BotoConfig(
        retries={"mode": "standard", "total_max_attempts": config.store.aws_max_attempts}
    )
    try:
        return boto3.client("dynamodb", region_name=config.store.aws_region, config=boto_config)
    except BotoCoreError as exc:
        raise map_botocore_error(exc) from exc


def build_store(
    config: Config, dynamodb_client: DynamoDBClient | None = None, *, create: bool = False
) -> BugStore:
    """The configured store. create: a missing SQLite file is created (the long-running bot and metrics
    processes, and `init`); otherwise it is StoreMissing, so a one-shot command run in the wrong directory
    says so instead of answering from a new, empty file."""
    if config.store.dynamodb_table:
        from storage.dynamodb import DynamoDBStore

        client = dynamodb_client or build_dynamodb_client(config)
        store: BugStore = DynamoDBStore(client, config.store.dynamodb_table, config.store.dynamodb_endpoint)
    else:
        from storage.sqlite import SqliteStore

        embedded = SqliteStore(config.store.sqlite_path, create=create)
        if create and embedded.path != ":memory:" and not os.path.exists(embedded.path):
            log.info("store: no file at %s yet: creating a new, empty store", os.path.abspath(embedded.path))
        store = embedded
    log.info("store: %s", store.description)
    return store


def build_suggester(
    store: BugStore, linked: Callable[[list[BugRecord]], None] | None = None
) -> tuple[BugStore, Suggester]:
    """The suggestion index, loaded once from the store, and the store wrapped so that every write keeps it
    current (storage/observed.py); `linked` hears of records linked under another id (bot/flow.py). Hand the
    returned store to everything that writes."""
    from bot.suggest.service import Suggester
    from storage.observed import ObservedStore

    suggester = Suggester()
    observed = ObservedStore(store, suggester.records_written, linked=linked)
    suggester.load(observed)
    return observed, suggester


def open_store(directory: str | os.PathLike[str] | None = None) -> BugStore:
    """For scripts and notebooks: the store the bot and `bugtracker` use, opened from the same configuration.

    Like the entry points (and the only place besides them), it reads `.env` of the current directory (or of
    `directory`); variables already set in the environment win. DYNAMODB_TABLE set: the DynamoDB table, else
    the embedded SQLite file (BUGTRACKER_DB), which must exist (StoreMissing: it opens a store, it does not
    create one). Raises ConfigError / StoreUnavailable (BugTrackerErrors, one readable line each) when the
    configuration is wrong or the store cannot be reached.
    """
    load_env_file(directory)
    store = build_store(load_config())
    store.check()
    return store


def build_slack_client(config: SlackConfig) -> WebClient:
    """The Web API client (bot/slack/web_client.py): each method paced by its Slack tier under one pacing
    for the whole process (bot/slack/pacing.py); a 429 waits its Retry-After, holding back that method only;
    5xx answers and broken connections are retried except for posts (`chat.postMessage` /
    `chat.postEphemeral` may have landed: bot/slack/answers.py reads the thread back instead). History
    paging, answers, status cards and commands all go through it."""
    from bot.slack.pacing import MethodPacing
    from bot.slack.web_client import build_web_client

    return build_web_client(config.bot_token, config.api_url, MethodPacing())


STATUS_CLAIM_SECONDS = 300


def build_status_board(config: Config, store: BugStore) -> StatusBoard | None:
    """The status board (bot/slack/status_board.py) the sync runs report to, unless SLACK_STATUS_UPDATES=off.
    Its transport (Slack or the console) is attached by bot/run.py once that exists."""
    if not config.status_updates:
        log.info("status updates off (SLACK_STATUS_UPDATES=off)")
        return None
    from bot.slack.claims import Claims
    from bot.slack.status_board import StatusBoard

    # a claim outlives any announcement (seconds) but not a crash by long: its ticket is announced then
    return StatusBoard(store, claims=Claims(store, ttl_seconds=STATUS_CLAIM_SECONDS))


def build_support_notes(config: Config, store: BugStore) -> SupportNotes | None:
    """The Zendesk notes worker (bot/tickets/notes.py) when ZENDESK_NOTES=on and Zendesk is configured; its
    own zenpy client (its 429 budget is not the pull's). Not started here: bot/run.py starts it."""
    if not config.zendesk_notes:
        return None
    if config.zendesk is None:
        log.warning("ZENDESK_NOTES=on but Zendesk is not configured (ZENDESK_*): no notes are sent")
        return None
    from adapters.zendesk_notes import NOTES_RATELIMIT_BUDGET, ZendeskNotes
    from adapters.zendesk_pull import build_zendesk_client
    from bot.slack.claims import Claims
    from bot.tickets.notes import CLAIM_SECONDS, SupportNotes

    client = build_zendesk_client(config.zendesk, timeout=30, ratelimit_budget=NOTES_RATELIMIT_BUDGET)
    notes = ZendeskNotes(client, ratelimit_budget=NOTES_RATELIMIT_BUDGET)
    return SupportNotes(store, notes, Claims(store, ttl_seconds=CLAIM_SECONDS))


def build_digest(config: Config, store: BugStore) -> DigestWorker | None:
    """The daily digest worker (bot/digest.py) when BUG_DIGEST_AT is set and Slack is configured: its own
    paced client and readers rule (a Slack call or two a day). Not started here: bot/run.py starts it."""
    slack = config.slack
    if slack is None or slack.digest_at is None:
        return None
    from zoneinfo import ZoneInfo

    from bot.digest import DigestWorker, parse_at
    from bot.slack.digest_post import SlackDigest
    from bot.slack.readers import Readers
    from bot.sync.lease import default_owner

    client = build_slack_client(slack)
    readers = Readers(client, slack.channel_ids, slack.readers, slack.linkers)
    poster = SlackDigest(client, readers)
    at, zone = parse_at(slack.digest_at), ZoneInfo(slack.digest_tz)
    return DigestWorker(store, slack.channel_ids, at, zone, poster.post, poster, default_owner())


SOURCE_NAMES = ("zendesk", "shortcut")
_MISSING = {
    "zendesk": "ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and ZENDESK_API_TOKEN are not set",
    "shortcut": "SHORTCUT_API_TOKEN is not set",
}


def build_source(config: Config, name: str) -> SyncSource | None:
    """The source called `name`, or None (with one log line) when its credentials are not configured."""
    budget = config.sync.ratelimit_budget_seconds
    if name == "zendesk" and config.zendesk is not None:
        from adapters.zendesk_pull import ZendeskPull, build_zendesk_client

        client = build_zendesk_client(config.zendesk)
        return ZendeskPull(client, config.zendesk.subdomain, start=config.sync.start, ratelimit_budget=budget)
    if name == "shortcut" and config.shortcut is not None:
        from adapters.shortcut_http import ShortcutHttp
        from adapters.shortcut_pull import ShortcutPull

        http = ShortcutHttp(config.shortcut.api_url, config.shortcut.api_token, ratelimit_budget=budget)
        return ShortcutPull(http, config.shortcut.query, start=config.sync.start)
    log.info("sync %s skipped: %s", name, _MISSING[name])
    return None


def build_upstreams(config: Config) -> Upstreams:
    """The Shortcut / Zendesk clients that create a ticket from a report and read one by id (a link to an
    item no pull stored yet): their own clients, so a create's short rate-limit wait is not the pull's."""
    from bot.tickets.upstreams import PullScope, Upstreams

    shortcut = zendesk = None
    if config.shortcut is not None:
        from adapters.shortcut_create import ShortcutCreate
        from adapters.shortcut_http import ShortcutHttp

        shortcut = ShortcutCreate(
            ShortcutHttp(config.shortcut.api_url, config.shortcut.api_token, ratelimit_budget=5, timeout=30)
        )
    if config.zendesk is not None:
        from adapters.zendesk_create import CREATE_RATELIMIT_BUDGET, ZendeskCreate
        from adapters.zendesk_pull import build_zendesk_client

        client = build_zendesk_client(config.zendesk, timeout=30, ratelimit_budget=CREATE_RATELIMIT_BUDGET)
        zendesk = ZendeskCreate(client, config.zendesk.subdomain, ratelimit_budget=CREATE_RATELIMIT_BUDGET)
    if not config.create_enabled:
        log.info("creating tickets from reports is off (BUG_CREATE=off)")
    query = config.shortcut.query if config.shortcut is not None else ""
    scope = PullScope(shortcut_query=query, start=config.sync.start)  # a fetch by id takes what a pull would
    return Upstreams(shortcut=shortcut, zendesk=zendesk, create_enabled=config.create_enabled, scope=scope)


def build_sources(config: Config, names: tuple[str, ...] = SOURCE_NAMES) -> list[SyncSource]:
    return [source for name in names if (source := build_source(config, name)) is not None]


def build_scheduler(config: Config, store: BugStore, notifier: ChangeNotifier | None = None) -> SyncScheduler:
    """The APScheduler pulls of every configured source (started; none configured: an idle scheduler);
    `notifier` hears of what each pull changed. Their metrics' label sets start at 0."""
    from bot.metrics.registry import initialise_sources
    from bot.sync.scheduler import start_scheduler

    sources = build_sources(config)
    initialise_sources([source.name for source in sources])
    return start_scheduler(config, store, sources, notifier=notifier)


def build_metrics_server(config: Config, store: BugStore, bot: BotStatusLike) -> MetricsServer | None:
    """/metrics, /healthz and the drill-down API when METRICS_PORT is set (started), else None."""
    if config.metrics_port is None:
        return None
    from bot.metrics.server import start_metrics_server

    return start_metrics_server(
        store,
        port=config.metrics_port,
        host=config.metrics_host,
        refresh_seconds=config.metrics_refresh_seconds,
        bot=bot,
        access=http_access(config),
    )


def build_health_server(config: Config, store: BugStore, bot: BotStatusLike | None) -> MetricsServer | None:
    """/healthz and /readyz alone on HEALTH_PORT when it is set (started), else None."""
    if config.health_port is None:
        return None
    from bot.metrics.server import start_health_server

    host = config.health_host or config.metrics_host
    return start_health_server(store, port=config.health_port, host=host, bot=bot, access=http_access(config))


def http_access(config: Config) -> Access:
    from bot.metrics.access import Access

    return Access(config.metrics_api_token, frozenset(config.metrics_allowed_hosts))


def build_slack_app(
    config: SlackConfig,
    store: BugStore,
    suggester: Suggester | None = None,
    board: StatusBoard | None = None,
    upstreams: Upstreams | None = None,
    stop: threading.Event | None = None,
) -> tuple[App, Intake]:
    """The Bolt app with its listeners, on a WebClient built here, once Slack accepted the bot token
    (bot/slack/startup.py: refused, one line; unreachable, retried until `stop`); the status board (if any)
    gets its Slack transport and starts."""
    from bot.slack.app import build_app
    from bot.slack.startup import verify_bot_token

    client = build_slack_client(config)
    identity = verify_bot_token(client, stop)
    app, intake = build_app(config, store, client, suggester, board, upstreams, identity=identity)
    if board is not None:
        from bot.slack.status_cards import SlackStatusCards

        board.transport = SlackStatusCards(
            app.client, create_button=bool(upstreams and upstreams.available())
        )
        board.start()
    return app, intake
