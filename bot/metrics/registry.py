"""Metric objects the running process updates (prometheus-client). Served by the metrics server.

They live in one registry built here so tests can read values without global state leaking between
processes: import the objects, update them; never create metric objects anywhere else.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

# -- bot health ------------------------------------------------------------------------------------
SOCKET_CONNECTED = Gauge(
    "bugtracker_socket_mode_connected", "1 while the Slack Socket Mode connection is up", registry=REGISTRY
)
EVENTS_HANDLED = Counter(
    "bugtracker_events_handled",
    "Slack events handled, by kind (message, edit, delete, reply)",
    ["kind"],
    registry=REGISTRY,
)
COMMAND_LATENCY = Histogram(
    "bugtracker_command_seconds",
    "Time to answer a /bug command, by subcommand",
    ["command"],
    registry=REGISTRY,
)
INTAKE_PENDING = Gauge(
    "bugtracker_intake_pending",
    "Slack reports seen but not stored yet (in flight, or waiting for the store to take them)",
    registry=REGISTRY,
)
SWEEP_LAST_SUCCESS = Gauge(
    "bugtracker_slack_sweep_last_success_timestamp_seconds",
    "Unix time of the last complete sweep of the bug channels' history (0: none yet)",
    registry=REGISTRY,
)
STATUS_CARDS_UNREACHABLE = Counter(
    "bugtracker_status_cards_unreachable",
    "Status cards Slack will never let the bot update or post (archived channel, not in it, edit window"
    " closed), by Slack's error: not retried until the ticket changes again",
    ["reason"],
    registry=REGISTRY,
)
# Flow times (bot/flow.py): minutes to weeks
FLOW_BUCKETS = (60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400)
FLOW_TO_LINK = Histogram(
    "bugtracker_flow_report_to_link_seconds",
    "From a report's or ticket's creation to its link under a bug, by its priority and source",
    ["priority", "source"],
    buckets=FLOW_BUCKETS,
    registry=REGISTRY,
)
FLOW_TO_DONE = Histogram(
    "bugtracker_flow_link_to_done_seconds",
    "From a report's or ticket's link under a bug to the bug's story reaching done, by priority and source",
    ["priority", "source"],
    buckets=FLOW_BUCKETS,
    registry=REGISTRY,
)
ZENDESK_NOTES = Counter(
    "bugtracker_zendesk_notes",
    "Internal notes on Zendesk tickets whose story is done, by outcome: sent, failed (retried), refused",
    ["outcome"],
    registry=REGISTRY,
)
ERRORS = Counter(
    "bugtracker_errors", "Unexpected errors caught by the global error handler", registry=REGISTRY
)

# -- sync health -----------------------------------------------------------------------------------
SYNC_LAST_SUCCESS = Gauge(
    "bugtracker_sync_last_success_timestamp_seconds",
    "Unix time of the last successful pull",
    ["source"],
    registry=REGISTRY,
)
SYNC_DURATION = Gauge(
    "bugtracker_sync_duration_seconds", "Duration of the last pull", ["source"], registry=REGISTRY
)
SYNC_RECORDS = Counter(
    "bugtracker_sync_records",
    "Records seen by pulls, by outcome (fetched, inserted, updated, unchanged, failed)",
    ["source", "outcome"],
    registry=REGISTRY,
)
SYNC_FAILURES = Counter("bugtracker_sync_failures", "Pulls that failed", ["source"], registry=REGISTRY)
SYNC_RATE_LIMIT_WAIT = Counter(
    "bugtracker_sync_rate_limit_wait_seconds",
    "Seconds spent waiting on upstream rate limits",
    ["source"],
    registry=REGISTRY,
)

# -- every series the dashboard queries exists from the start (0), not only after its first event ------
EVENT_KINDS = ("message", "edit", "delete", "reply")
COMMANDS = ("help", "show", "link", "unlink", "create", "list", "unlinked", "stats", "invalid")
SYNC_OUTCOMES = ("fetched", "inserted", "updated", "unchanged", "failed")

for _kind in EVENT_KINDS:
    EVENTS_HANDLED.labels(_kind)
for _command in COMMANDS:
    COMMAND_LATENCY.labels(_command)


def initialise_sources(sources: tuple[str, ...] | list[str]) -> None:
    """The label sets of the configured sync sources, at 0 (bot/bootstrap.py calls it with their names):
    a panel of failures shows 0, not "No data", before the first failure."""
    initialise_flow()
    for source in sources:
        SYNC_FAILURES.labels(source)
        SYNC_DURATION.labels(source)
        SYNC_RATE_LIMIT_WAIT.labels(source)
        SYNC_LAST_SUCCESS.labels(source)
        for outcome in SYNC_OUTCOMES:
            SYNC_RECORDS.labels(source, outcome)


def initialise_flow() -> None:
    """The flow histograms' label sets (each priority, and none; Slack reports and Zendesk tickets) at 0, so
    the dashboard's flow row shows them before the first link."""
    for priority in ("Critical", "High", "Medium", "Low", "none"):
        for source in ("slack", "zendesk"):
            FLOW_TO_LINK.labels(priority, source)
            FLOW_TO_DONE.labels(priority, source)
