"""The one place that builds and connects things (the composition root): the store and its DynamoDB client,
the Slack Web API client, the Bolt app and its listeners, the intake, the answer queue, the sweep, the
status board, the Zendesk / Shortcut pull sources, the sync scheduler and the HTTP servers.

Everything is built here in dependency order, each object given its collaborators as constructor
arguments, so that it is usable the moment it exists; nothing is attached afterwards. `build_bot` builds
the whole running process (Slack or console) as a `Bot`: its services start in order and stop in reverse,
each by the one rule of bot/worker.py (`stop(timeout)`). Nothing is built at import time, and nothing
below this module imports it: the entry points (`bot/run.py`, `bot/cli/`) call it; tests pass their own
objects in. Scripts call `open_store()`."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from bot.config import Config, SlackConfig, load_config, load_env_file, missing_settings
from storage.errors import BugTrackerError
from storage.model import BugRecord
from storage.store import BugStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from slack_bolt import App
    from slack_sdk import WebClient

    from adapters.pull import SyncSource
    from bot.digest import DigestWorker
    from bot.flow import FlowLog
    from bot.metrics.access import Access
    from bot.metrics.server import BotStatusLike, MetricsServer
    from bot.slack.answer_queue import AnswerQueue
    from bot.slack.console import Console
    from bot.slack.dependencies import SlackDeps
    from bot.slack.directory import Directory, DirectoryReader
    from bot.slack.intake import Intake, StoreHealth
    from bot.slack.status_board import StatusBoard, Transport
    from bot.slack.sweep import Sweeper
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

    suggester = Suggester(store=store)  # reads (the load, a report by id) go to the store it wraps
    observed = ObservedStore(store, suggester.records_written, linked=linked)
    suggester.load()
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


def build_status_board(
    config: Config,
    store: BugStore,
    transport: Transport | None = None,
    fits_channel: Callable[[str, BugRecord], bool] | None = None,
) -> StatusBoard | None:
    """The status board (bot/slack/status_board.py) the sync runs report to, unless SLACK_STATUS_UPDATES=off.
    `transport`: Slack's status cards or the console's lines (None: `bugtracker sync`, which only notes what
    changed for the running bot to announce); `fits_channel`: what a card in a channel may show."""
    if not config.status_updates:
        log.info("status updates off (SLACK_STATUS_UPDATES=off)")
        return None
    from bot.slack.claims import Claims
    from bot.slack.status_board import StatusBoard

    # a claim outlives any announcement (seconds) but not a crash by long: its ticket is announced then
    claims = Claims(store, ttl_seconds=STATUS_CLAIM_SECONDS)
    return StatusBoard(store, transport, claims, fits_channel)


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
    log.info("sync %s skipped: %s", name, missing_settings(name))
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
    """The APScheduler pulls of every configured source (not started; none configured: an idle scheduler);
    `notifier` hears of what each pull changed. Their metrics' label sets start at 0."""
    from bot.metrics.registry import initialise_sources
    from bot.sync.scheduler import build_sync_scheduler

    sources = build_sources(config)
    initialise_sources([source.name for source in sources])
    return build_sync_scheduler(config, store, sources, notifier=notifier)


def build_metrics_server(
    config: Config,
    store: BugStore,
    bot: BotStatusLike | None,
    *,
    port: int | None = None,
    host: str | None = None,
    refresh_seconds: float | None = None,
) -> MetricsServer | None:
    """/metrics, /healthz and the drill-down API on METRICS_PORT (or `port`: `bugtracker metrics`), bound
    but not started (`start()`); None when no port is set. `bot`: None when no bot runs in this process."""
    port = port if port is not None else config.metrics_port
    if port is None:
        return None
    from bot.metrics.server import build_metrics_server as build

    refresh = refresh_seconds if refresh_seconds is not None else config.metrics_refresh_seconds
    return build(store, port, host or config.metrics_host, refresh, bot, access=http_access(config))


def build_health_server(config: Config, store: BugStore, bot: BotStatusLike | None) -> MetricsServer | None:
    """/healthz and /readyz alone on HEALTH_PORT when it is set (bound, not started), else None."""
    if config.health_port is None:
        return None
    from bot.metrics.server import build_health_server as build

    host = config.health_host or config.metrics_host
    return build(store, config.health_port, host, bot, access=http_access(config))


def http_access(config: Config) -> Access:
    from bot.metrics.access import Access

    return Access(config.metrics_api_token, frozenset(config.metrics_allowed_hosts))


# -- the running process ----------------------------------------------------------------------------------
STOP_SECONDS = 10.0  # shutting down waits this long in all for the services' threads


class Service(Protocol):
    """What the running process starts in order and stops in reverse (bot/worker.py's rule)."""

    def start(self) -> object: ...

    def stop(self, timeout: float = ...) -> bool: ...


class Connected(Protocol):
    def is_connected(self) -> bool: ...


class BotStatus:
    """What the HTTP servers may observe about the bot: its mode ("slack" or "console"), whether the Socket
    Mode connection is up (from the real socket client) and whether the intake's store writes fail."""

    def __init__(
        self, mode: str, connection: Connected | None = None, store_health: StoreHealth | None = None
    ) -> None:
        self.mode = mode
        self.connection = connection
        self.store_health = store_health

    def is_connected(self) -> bool:
        return self.connection is not None and self.connection.is_connected()

    def store_problem(self) -> str | None:
        """One line while the intake's store writes are failing (reports wait in the retry queue)."""
        return self.store_health.problem() if self.store_health is not None else None


@dataclass
class Bot:
    """The running process as bootstrap built it: `start()` starts each service in order (one that cannot
    start stops those that did, then re-raises), `stop()` stops them in reverse within STOP_SECONDS."""

    mode: str
    store: BugStore
    services: list[Service]
    status: BotStatus
    console: Console | None = None  # console mode: what reads the lines
    board: StatusBoard | None = None
    _started: list[Service] = field(default_factory=list)

    def start(self) -> None:
        try:
            for service in self.services:
                service.start()
                self._started.append(service)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while self._started:
            service = self._started.pop()
            try:
                service.stop(max(0.1, deadline - time.monotonic()))
            except Exception:  # shutting down: log and keep stopping the others
                log.exception("could not stop %r", service)


def canonicalize_ids_once(store: BugStore) -> None:
    """The one-off move of records stored under non-canonical ids (ZD-0042 -> ZD-42), at the first start
    of a version that canonicalises ids; a failure is logged and tried again at the next start."""
    from bot import migrations

    try:
        moved = migrations.canonicalize_ids(store, actor="bot start-up", once=True)
    except BugTrackerError as exc:
        log.warning("could not move records stored under non-canonical ids (next start retries): %s", exc)
        return
    for old, new, count in moved:
        log.info("moved %d record(s) stored under %s to %s", count, old, new)


def build_bot(
    config: Config, stop: threading.Event, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> Bot:
    """The whole running process: Slack over Socket Mode when its tokens are set, else the console on
    `stdin` / `stdout`. Raises BugTrackerError (the store, a port) and, in Slack mode, SlackRefused /
    StartStopped (bot/slack/startup.py: a refused token; `stop` set while Slack was unreachable)."""
    # The bot owns its store: on a fresh checkout (`make run`) it creates the SQLite file.
    raw = build_store(config, create=True)
    # check, not init: on AWS the table is Terraform's and the bot's role may not create tables
    raw.check()
    canonicalize_ids_once(raw)
    from bot.flow import FlowLog

    flow = FlowLog(raw)  # flow times: links told by the store wrapper, done stories by the sync
    # every write from here on (intake, sync, links) keeps the suggestion index current
    store, suggester = build_suggester(raw, linked=flow.linked)
    upstreams = build_upstreams(config)
    if config.slack is not None:
        return _build_slack(config, store, suggester, upstreams, flow, stop)
    return _build_console(config, store, suggester, upstreams, flow, stdin or sys.stdin, stdout or sys.stdout)


def _servers(config: Config, store: BugStore, status: BotStatus) -> list[Service]:
    servers = [build_metrics_server(config, store, status), build_health_server(config, store, status)]
    return [server for server in servers if server is not None]


def _beside(config: Config, store: BugStore, board: StatusBoard | None, flow: FlowLog) -> list[Service]:
    """What runs beside the bot in every mode, in start order: the status board (stopped last: the
    scheduler may still be telling it something), the Zendesk notes, the digest, the flow times, and the sync
    scheduler telling each of them what its pulls changed."""
    from bot.digest import DoneLog
    from bot.tickets.notes import fan_out

    notes = build_support_notes(config, store)
    digest = build_digest(config, store)
    done_log = DoneLog(store) if digest is not None else None  # what the digest says was done
    scheduler = build_scheduler(config, store, fan_out(board, notes, done_log, flow))
    started = [board, notes, digest, flow, scheduler]  # flow: its samples reach the store once a minute
    return [service for service in started if service is not None]


def _build_console(
    config: Config,
    store: BugStore,
    suggester: Suggester,
    upstreams: Upstreams,
    flow: FlowLog,
    stdin: TextIO,
    stdout: TextIO,
) -> Bot:
    from bot.slack.console import Console
    from bot.slack.intake import Intake
    from bot.slack.status_cards import ConsoleStatus

    def write(text: str) -> None:
        print(text, file=stdout, end="", flush=True)

    board = build_status_board(config, store, ConsoleStatus(write))  # status changes printed as text
    console = Console(store, Intake(store), suggester=suggester, board=board, upstreams=upstreams)
    status = BotStatus("console")
    services = [*_beside(config, store, board, flow), *_servers(config, store, status)]
    return Bot("console", store, services, status, console=console, board=board)


@dataclass
class SlackParts:
    """The Slack side, built and connected (not started): the app with its listeners and what runs beside."""

    app: App
    deps: SlackDeps
    answers: AnswerQueue
    sweeper: Sweeper
    directory: Directory
    directory_reader: DirectoryReader  # reads the guest / outsider map in the background once started
    board: StatusBoard | None

    @property
    def intake(self) -> Intake:
        return self.deps.intake


def build_slack_parts(
    slack: SlackConfig,
    store: BugStore,
    client: WebClient,
    identity: dict[str, Any],
    *,
    suggester: Suggester | None = None,
    upstreams: Upstreams | None = None,
    status_updates: bool = False,
    board: StatusBoard | None = None,
    directory: Directory | None = None,
) -> SlackParts:
    """`identity`: auth.test's answer; `status_updates`: build the status board with Slack's cards (or pass
    `board`); `directory`: the guest / outsider map (None: one for this workspace)."""
    from bot.slack.answer_queue import AnswerQueue
    from bot.slack.app import ListenerPools, build_app, register_listeners
    from bot.slack.claims import Claims
    from bot.slack.delivery import Delivery, ThreadAnswers
    from bot.slack.dependencies import SlackDeps
    from bot.slack.directory import Directory, DirectoryReader
    from bot.slack.intake import Intake, StoreHealth
    from bot.slack.readers import Readers
    from bot.slack.retry import RetryQueue
    from bot.slack.status_board import StatusBoard
    from bot.slack.status_cards import SlackStatusCards
    from bot.slack.sweep import Sweeper, fetch_message
    from bot.tickets.upstreams import NO_UPSTREAMS

    upstreams = upstreams or NO_UPSTREAMS
    directory = directory or Directory(client, identity.get("team_id"))
    readers = Readers(client, slack.channel_ids, slack.readers, slack.linkers, directory=directory)
    create_button = bool(upstreams.available())
    retries = RetryQueue()  # reports whose store write failed; retried at once when the store answers again
    intake = Intake(
        store,
        workspace_url=identity.get("url"),
        actor_of=readers.actor,  # a tag links as its poster, by the readers' rule
        thread_replies=slack.thread_replies,
        fetch_message=fetch_message(client),
        intake_bots=slack.intake_bots,
        own=(identity.get("user_id"), identity.get("bot_id")),  # our own posts are never reports
        upstreams=upstreams,
        health=StoreHealth(on_recovery=(retries.retry_now,)),
    )
    if board is None and status_updates:
        # a card in channel X shows only what X may read; Slack failing: the card waits (strict)
        board = StatusBoard(
            store,
            SlackStatusCards(client, create_button=create_button),
            Claims(store, ttl_seconds=STATUS_CLAIM_SECONDS),
            lambda channel, record: readers.fits_channel(channel, record, strict=True),
        )
    thread_answers = ThreadAnswers(
        client, Claims(store), suggester, board, create_button, readers.fits_channel
    )
    answers = AnswerQueue(thread_answers.post, thread_answers.fold, intake.watermarks)
    delivery = Delivery(intake, answers, retries)
    sweeper = Sweeper(
        client, intake, slack.channel_ids, answers.put, slack.sweep_seconds, queued=answers.awaiting_live
    )
    app = build_app(client, ListenerPools())
    deps = SlackDeps(
        slack, store, client, intake, readers, delivery, readers.actor, upstreams, suggester, board
    )
    register_listeners(app, deps)
    return SlackParts(app, deps, answers, sweeper, directory, DirectoryReader(directory), board)


def _build_slack(
    config: Config,
    store: BugStore,
    suggester: Suggester,
    upstreams: Upstreams,
    flow: FlowLog,
    stop: threading.Event,
) -> Bot:
    from bot.slack.socket_mode import SocketConnection
    from bot.slack.startup import verify_app_token, verify_bot_token

    slack = config.slack
    assert slack is not None
    client = build_slack_client(slack)
    identity = verify_bot_token(client, stop)  # a refused token: one line; unreachable: retried until stop
    if not config.status_updates:
        log.info("status updates off (SLACK_STATUS_UPDATES=off)")
    parts = build_slack_parts(
        slack, store, client, identity, suggester=suggester, upstreams=upstreams,
        status_updates=config.status_updates,
    )  # fmt: skip
    connection = SocketConnection(
        parts.app,
        slack.app_token,
        first_url=lambda: verify_app_token(client, slack.app_token, stop),
        on_hello=parts.sweeper.wake,  # a new connection: catch up on the bug channels
    )
    status = BotStatus("slack", connection, parts.intake.health)
    board = parts.board
    services = [
        *_beside(config, store, board, flow),
        *_servers(config, store, status),
        parts.directory_reader,  # guests and outsiders, read in the background
        parts.answers,
        parts.sweeper,
        parts.deps.delivery,
        connection,  # connected last, once every listener's collaborators run; closed first
    ]
    log.info("mode: Slack Socket Mode, channels %s; store: %s", slack.channel_ids, store.description)
    return Bot("slack", store, services, status, board=board)
