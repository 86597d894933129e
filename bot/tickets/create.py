"""Create a Shortcut story or Zendesk ticket from a Slack report, and link the report under it at once.

One verb for every surface (the buttons, the modal, `/bug create`, the console, `bugtracker create`).
Exactly once, across double clicks, instances and retries:
- the report is claimed in the store (one conditional write) before anything is sent, and released after;
  a second click while the first is creating is told so, one after it finds the report linked;
- every attempt carries a creation key (Shortcut `external_id`, Zendesk `external_id`) saved in the store
  before the POST; when the outcome is unknown (a timeout, a 5xx), the item is looked up by that key at
  once and again by every next try before anything is created again;
- a POST whose answer was lost may still commit later (a queue behind a gateway's timeout), so one look-up
  finding nothing proves little: within CHECK_SECONDS of the lost answer a retry only looks (and says
  "checking whether it was created"), and a new item is made only when two look-ups at least
  LOOKUP_GAP_SECONDS apart both found nothing.
A refusal (401/403/422/429) leaves the report as it was, with one line saying why.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from adapters import slack_message
from adapters.create import CreateRefused, CreateUnknown, Creator, TicketDraft
from adapters.pull import UpstreamError
from bot.tickets.link import MayLink, StaleSuggestion, report_of
from bot.tickets.upstreams import Upstreams
from storage import systems
from storage.errors import BugTrackerError
from storage.model import BugRecord, now_timestamp
from storage.store import BugStore
from storage.values import LinkResult

log = logging.getLogger(__name__)

CHECK_SECONDS = 300.0  # after a lost answer, only look: a POST may still commit this long after
LOOKUP_GAP_SECONDS = 60.0  # two empty look-ups at least this far apart: nothing was made
CLAIM_SECONDS = 180.0  # outlives any create's wait (60 s timeout, a short 429 budget), not a crash by long
META_PREFIX = "create:"
REPLY_LIMIT = 10  # thread replies copied into the description
REPLY_CHARS = 1000
_KIND = {"shortcut": "story", "zendesk": "ticket"}


class CreateDenied(BugTrackerError):
    """The person may not create tickets."""


class CreateBusy(BugTrackerError):
    """Another click (or instance) is creating a ticket for this report right now."""


class CreateChecking(BugTrackerError):
    """An earlier try's answer was lost and its item is not found yet: nothing new is made for now."""


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
        return systems.name(self.system)


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
    clock: Callable[[], float] = time.time,
    visible_to: str | None = None,
) -> Created:
    """Create the story / ticket for the report and move the report under it; see the module's docstring.
    `draft` None: the prefill (console, CLI). Raises our errors with a line for the person. `visible_to`:
    the report's channel when it is narrower than the workspace: the stored record is shown only to that
    channel's readers until a pull writes it again (docs/privacy.md)."""
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
        record, key, found_again = _earlier_attempt(store, upstreams, report, clock())
        if record is None:
            key = uuid.uuid4().hex
            _note(store, report.home_id, "sending", creator.name, key, user, sent=clock())
            record, found_again = _send(store, creator, draft, key, report.home_id, user, clock)
        else:
            creator = upstreams.reader(record.source_system) or creator
        if visible_to:
            record = replace(record, attributes={**record.attributes, "visible_to": visible_to})
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
    store: BugStore, upstreams: Upstreams, report: BugRecord, now: float
) -> tuple[BugRecord | None, str, bool]:
    """An earlier try whose outcome is unknown: the item it made, found by its key; None when two look-ups
    apart in time found nothing (a new one may be made). Raises CreateChecking while it is too early."""
    attempt = store.get_meta(meta_key(report.home_id)) or {}
    if attempt.get("state") != "sending":
        return None, "", False
    earlier = upstreams.reader(str(attempt.get("system")))
    if earlier is None:
        return None, "", False
    key = str(attempt.get("key"))
    try:
        record = earlier.find(key, report.url)
    except UpstreamError as exc:  # not knowing whether it exists, creating again could make a second one
        raise CreateUnknown(
            f"an earlier try may have created it and {systems.name(earlier.name)} could not be asked"
            f" ({exc}); nothing was created, try again in a minute"
        ) from None
    if record is not None:
        return record, key, True
    misses = [float(at) for at in attempt.get("misses") or [] if isinstance(at, int | float)]
    sent = attempt.get("sent")
    sent_at = float(sent) if isinstance(sent, int | float) else min(misses, default=now)
    settled = now - sent_at >= CHECK_SECONDS
    if settled and any(now - miss >= LOOKUP_GAP_SECONDS for miss in misses):
        return None, "", False  # two look-ups apart in time found nothing: it was not made
    store.put_meta(meta_key(report.home_id), {**attempt, "misses": [*misses, now][-5:]})
    ready = max(sent_at + CHECK_SECONDS, min(misses, default=now) + LOOKUP_GAP_SECONDS)
    raise CreateChecking(
        f"checking whether it was created: {systems.name(earlier.name)} lost its answer to an earlier try"
        f" and the {systems.item_kind(earlier.name)} is not there yet, but it may still appear;"
        " nothing new was made."
        f" Try again after {_clock_time(ready)}"
    )


def _clock_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M UTC")


def _send(
    store: BugStore,
    creator: Creator,
    draft: TicketDraft,
    key: str,
    report_id: str,
    user: str,
    clock: Callable[[], float],
) -> tuple[BugRecord, bool]:
    """(the item made, whether it was found by its key after the answer was lost)."""
    try:
        return creator.create(draft, key), False
    except CreateRefused:
        _note(store, report_id, "refused", creator.name, key, user)  # nothing exists: no look-up needed
        raise
    except CreateUnknown as exc:
        sent = (store.get_meta(meta_key(report_id)) or {}).get("sent")
        misses: list[float] = []
        try:
            found = creator.find(key, draft.permalink)
            misses.append(clock())  # a look-up that found nothing (one that failed proves nothing)
        except UpstreamError as failed:
            log.warning("could not look up an earlier %s create by its key: %s", creator.name, failed)
            found = None
        if found is not None:
            return found, True
        _note(store, report_id, "sending", creator.name, key, user, sent=sent or clock(), misses=misses)
        raise CreateUnknown(
            f"{exc}; nothing was linked ({systems.name(creator.name)} is asked first next time)"
        ) from None


def _note(store: BugStore, report_id: str, state: str, system: str, key: str, user: str, **more: Any) -> None:
    value = {"state": state, "system": system, "key": key, "by": user, "at": now_timestamp(), **more}
    store.put_meta(meta_key(report_id), value)


def created_note(created: Created) -> str:
    """The thread answer (mrkdwn is the caller's business: this is plain text with the bare URL)."""
    where = f": {created.url}" if created.url else ""
    return (
        f"Created {created.ticket_id} in {created.system_name}{where}"
        f" — this report now lives under {created.ticket_id}"
    )
