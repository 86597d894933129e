"""Create a Shortcut story or Zendesk ticket from a Slack report, and link the report under it at once.

One verb for every surface (the buttons, the modal, `/bug create`, the console, `bugtracker create`).
Exactly once, across double clicks, instances and retries:
- the report is claimed in the store (one conditional write) before anything is sent, and released after;
  a second click while the first is creating is told so, one after it finds the report linked;
- every attempt carries a creation key (Shortcut `external_id`, Zendesk `external_id`) saved in the store
  before the POST; when the outcome is unknown (a timeout, a 5xx), the item is looked up by that key at
  once and again by the next try before anything is created again.
A refusal (401/403/422/429) leaves the report as it was, with one line saying why.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from adapters import slack_message
from adapters.create import CreateRefused, CreateUnknown, Creator, TicketDraft
from adapters.pull import UpstreamError
from bot.tickets.link import MayLink, StaleSuggestion, report_of
from bot.tickets.upstreams import SYSTEM_NAMES, Upstreams
from storage.errors import BugTrackerError
from storage.model import BugRecord, now_timestamp
from storage.store import BugStore
from storage.values import LinkResult

log = logging.getLogger(__name__)

CLAIM_SECONDS = 180.0  # outlives any create's wait (60 s timeout, a short 429 budget), not a crash by long
META_PREFIX = "create:"
REPLY_LIMIT = 10  # thread replies copied into the description
REPLY_CHARS = 1000


class CreateDenied(BugTrackerError):
    """The person may not create tickets."""


class CreateBusy(BugTrackerError):
    """Another click (or instance) is creating a ticket for this report right now."""


@dataclass(frozen=True)
class Created:
    system: str
    ticket_id: str  # SC-123 / ZD-5001
    url: str | None
    report_id: str
    record: BugRecord  # as the API answered
    link: LinkResult
    found_again: bool = False  # made by an earlier try whose answer was lost, found by its key

    @property
    def system_name(self) -> str:
        return SYSTEM_NAMES[self.system]


def check_may_create(user: str, may_link: MayLink) -> None:
    """Only linkers (BUG_LINKERS, or everyone when unset) create upstream; the author alone may not."""
    if not may_link(user):
        raise CreateDenied("you may not create tickets: only the people and groups in BUG_LINKERS may")


def check_unlinked(report: BugRecord) -> None:
    if report.deleted:
        raise StaleSuggestion(f"{report.home_id} was deleted; nothing was created")
    if report.location != report.home_id:
        raise StaleSuggestion(f"{report.home_id} already lives under {report.location}; nothing was created")


def untagged_replies(messages: list[dict[str, Any]], report_ts: str) -> list[str]:
    """The texts of a thread's replies by people that carry no tag (tags are for the bot, not the ticket)."""
    texts = []
    for message in messages:
        if message.get("ts") == report_ts or message.get("bot_id") or not message.get("user"):
            continue
        if slack_message.parse_tags(message.get("text")).raw:
            continue
        text = slack_message.plain_from_slack(message.get("text")).strip()
        if text:
            texts.append(f"{message.get('user')}: {text[:REPLY_CHARS]}")
    return texts[:REPLY_LIMIT]


def prefill(report: BugRecord, replies: list[str] | tuple[str, ...] = ()) -> TicketDraft:
    """The draft the modal shows (and the console / CLI send): the report's title, text, author, permalink
    and untagged replies; its priority from its tag."""
    text = slack_message.plain_from_slack(report.attributes.get("text")).strip()
    author = report.attributes.get("author") or "someone"
    lines = [text, "", f"Reported in Slack by {author} ({report.home_id})"]
    if report.url:
        lines.append(report.url)
    if replies:
        lines += ["", "Thread replies:", *(f"- {reply}" for reply in replies)]
    return TicketDraft(
        title=report.title or text.split("\n", 1)[0][:200] or f"Slack report {report.home_id}",
        description="\n".join(lines).strip(),
        permalink=report.url,
        priority=report.priority,
    )


def meta_key(report_id: str) -> str:
    return f"{META_PREFIX}{report_id}"


def create_ticket(
    store: BugStore,
    upstreams: Upstreams,
    system: str,
    report_id: str,
    user: str,
    may_link: MayLink,
    draft: TicketDraft | None = None,
) -> Created:
    """Create the story / ticket for the report and move the report under it; see the module's docstring.
    `draft` None: the prefill (console, CLI). Raises our errors with a line for the person."""
    check_may_create(user, may_link)
    creator = upstreams.creator(system)
    report = report_of(store, report_id)
    check_unlinked(report)
    claim, owner = f"claim:{meta_key(report.home_id)}", f"{user}:{uuid.uuid4().hex[:12]}"
    if not store.claim(claim, owner, CLAIM_SECONDS):
        raise CreateBusy(f"a ticket is being created for {report.home_id} right now; nothing else was done")
    try:
        report = report_of(store, report.home_id)  # the click before this one may have linked it
        check_unlinked(report)
        draft = draft or prefill(report)
        record, key, found_again = _earlier_attempt(store, upstreams, report)
        if record is None:
            key = uuid.uuid4().hex
            _note(store, report.home_id, "sending", creator.name, key, user)
            record, found_again = _send(store, creator, draft, key, report.home_id, user)
        else:
            creator = upstreams.reader(record.source_system) or creator
        store.upsert(record)  # stored from the API's answer at once, not only at the next pull
        link = store.link(report.home_id, record.home_id, user)
        _note(store, report.home_id, "created", creator.name, key, user, ticket=record.home_id)
    finally:
        store.release_lease(claim, owner)
    return Created(
        system=record.source_system,
        ticket_id=record.home_id,
        url=record.url,
        report_id=report.home_id,
        record=record,
        link=link,
        found_again=found_again,
    )


def _earlier_attempt(
    store: BugStore, upstreams: Upstreams, report: BugRecord
) -> tuple[BugRecord | None, str, bool]:
    """An earlier try whose outcome is unknown: the item it made, found by its key (or None)."""
    attempt = store.get_meta(meta_key(report.home_id)) or {}
    if attempt.get("state") != "sending":
        return None, "", False
    earlier = upstreams.reader(str(attempt.get("system")))
    if earlier is None:
        return None, "", False
    try:
        record = earlier.find(str(attempt.get("key")), report.url)
    except UpstreamError as exc:  # not knowing whether it exists, creating again could make a second one
        raise CreateUnknown(
            f"an earlier try may have created it and {SYSTEM_NAMES[earlier.name]} could not be asked"
            f" ({exc}); nothing was created, try again in a minute"
        ) from None
    return record, str(attempt.get("key")), record is not None


def _send(
    store: BugStore, creator: Creator, draft: TicketDraft, key: str, report_id: str, user: str
) -> tuple[BugRecord, bool]:
    """(the item made, whether it was found by its key after the answer was lost)."""
    try:
        return creator.create(draft, key), False
    except CreateRefused:
        _note(store, report_id, "refused", creator.name, key, user)  # nothing exists: no look-up needed
        raise
    except CreateUnknown as exc:
        found = _look_up(creator, key, draft.permalink)
        if found is not None:
            return found, True
        raise CreateUnknown(
            f"{exc}; nothing was linked ({SYSTEM_NAMES[creator.name]} is asked first next time)"
        ) from None


def _look_up(creator: Creator, key: str, permalink: str | None) -> BugRecord | None:
    try:
        return creator.find(key, permalink)
    except UpstreamError as exc:
        log.warning("could not look up an earlier %s create by its key: %s", creator.name, exc)
        return None


def _note(store: BugStore, report_id: str, state: str, system: str, key: str, user: str, **more: str) -> None:
    value = {"state": state, "system": system, "key": key, "by": user, "at": now_timestamp(), **more}
    store.put_meta(meta_key(report_id), value)


def created_note(created: Created) -> str:
    """The thread answer (mrkdwn is the caller's business: this is plain text with the bare URL)."""
    where = f": {created.url}" if created.url else ""
    return (
        f"Created {created.ticket_id} in {created.system_name}{where}"
        f" — this report now lives under {created.ticket_id}"
    )
