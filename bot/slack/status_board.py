"""Ticket progress told to the people who reported it: the status board behind Slack's thread cards and the
console's status lines (SLACK_STATUS_UPDATES).

A change people care about (a record's state, state type, priority, deleted / restored) under a ticket that
holds Slack reports is announced to every report under it, through a Transport (bot/slack/status_cards.py
for Slack, the console's printer). What each report was last shown is stored (meta `status:card:<SL id>`),
so an announcement is made when, and only when, what a report would be shown differs from what it was last
shown: a no-op pull or a repeated flush announces nothing, a restart repeats nothing. Tickets to look at are
noted durably (meta `status:pending`) before the pull's checkpoint moves on, so a restart drops nothing.

Flushing runs on one worker thread per process: announcements never race each other here, and a slow
Slack (pacing, 429s) never holds up a pull or a listener. Across processes (several bot instances on one
store) each announcement is claimed first (bot/slack/claims.py, a conditional write named after the report
and what it is about to be shown): one instance announces, the others keep the ticket pending until they
see it announced, or until the claim expires (its holder died before announcing) and they announce it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from bot.metrics.registry import STATUS_CARDS_UNREACHABLE
from bot.slack.readers import withheld
from bot.text_renderers import is_merged, merged_into
from bot.worker import Worker
from storage.errors import BugTrackerError, TicketNotFound
from storage.model import BugRecord
from storage.store import BugStore
from storage.values import TicketView

log = logging.getLogger(__name__)

PENDING_KEY = "status:pending"
CARD_PREFIX = "status:card:"
NOTE_LIMIT = 1000  # characters of the first reply's text kept to show above the card
FLUSH_EVERY_SECONDS = 60.0  # the worker also looks at the pending tickets this often: a `bugtracker sync`
# in another process (cron) notes its changes in the store, and the bot announces them within a minute


@dataclass(frozen=True)
class Transition:
    """One record's coarse move, worth a notification: a new state type, deleted or restored."""

    ticket_id: str  # the record's own id (ZD-12, SC-7)
    system: str
    state: str | None
    now: str  # the new state type, or "deleted" / "restored" / "merged" (a Zendesk ticket closed into one)
    merged_into: str | None = None  # with "merged": the ticket it went into (ZD-5), when known


@dataclass(frozen=True)
class Announcement:
    report: BugRecord  # the Slack report whose thread hears it
    view: TicketView  # the ticket it lives under, as it is now (deleted records included)
    card: dict[str, Any]  # what was stored about its card: channel, ts, note, shown, types ({} at first)
    transitions: tuple[Transition, ...]  # empty: only the card changes

    @property
    def linked(self) -> bool:
        return self.view.ticket_id != self.report.home_id


class ClaimsLike(Protocol):
    def once(self, name: str) -> bool: ...

    def release(self, name: str) -> None: ...


class Transport(Protocol):
    def announce(self, announcement: Announcement) -> dict[str, Any]:
        """Show it (update the card, post the transitions); the card fields to keep (e.g. channel, ts).
        Raise to leave the ticket pending for the next flush."""


def fingerprint(view: TicketView) -> list[list[Any]]:
    """What a card shows that people care about, comparable with what was stored (JSON-able)."""
    rows = [
        [r.source_record, r.state, r.state_type, r.priority, r.deleted]
        for r in sorted(view.records, key=lambda r: r.source_record)
    ]
    return [[view.ticket_id], *rows]


def coarse_state(record: BugRecord) -> str:
    """Deleted wins over the rest; a merged Zendesk ticket is "merged" (its work went on elsewhere: not
    "done", even though Zendesk closed it); otherwise its state type."""
    if record.deleted:
        return "deleted"
    return "merged" if is_merged(record) else (record.state_type or "none")


def state_types(view: TicketView) -> dict[str, str]:
    """The coarse state of every record that is not a Slack report."""
    return {r.source_record: coarse_state(r) for r in view.records if r.source_system != "slack"}


def transitions(view: TicketView, before: dict[str, str]) -> tuple[Transition, ...]:
    """Records already shown whose coarse state moved (a record new to the card is not a transition)."""
    found = []
    for record in view.records:
        if record.source_system == "slack" or record.source_record not in before:
            continue
        now = coarse_state(record)
        if now != before[record.source_record]:
            shown = "restored" if before[record.source_record] == "deleted" and now != "deleted" else now
            found.append(
                Transition(record.home_id, record.source_system, record.state, shown, merged_into(record))
            )
    return tuple(found)


class CardUnreachable(BugTrackerError):
    """Slack will never take this card where it is (archived channel, the bot not in it, too old to edit):
    the card is marked as shown and not retried until what it shows changes."""


class StatusBoard(Worker):
    """The ChangeNotifier the sync runner is given (bot/sync/changes.py), and the hook for links. Its worker
    (bot/worker.py) flushes what is pending once started: at once, then on wake() or every `flush_every`."""

    def __init__(
        self,
        store: BugStore,
        transport: Transport | None = None,
        claims: ClaimsLike | None = None,
        fits_channel: Callable[[str, BugRecord], bool] | None = None,
        flush_every: float = FLUSH_EVERY_SECONDS,
    ) -> None:
        super().__init__("status-board", every=flush_every)
        self.store = store
        self.transport = transport  # None: a board that only notes what changed (`bugtracker sync`)
        self.claims = claims  # None: this process is the only one announcing
        # (channel, record) -> may it be shown in that channel (bot/slack/readers.py; None: everything,
        # the console): a report's card leaves out Slack reports from channels whose readers differ
        self.fits_channel = fits_channel
        self._pending_lock = threading.Lock()
        self._due = threading.Event()  # a flush is asked for (what a previous process left pending, first)
        self._due.set()
        self._idle = threading.Condition()
        self._busy = False

    # -- the ChangeNotifier port ---------------------------------------------------------------
    def records_changed(self, records: list[BugRecord]) -> None:
        tickets = [ticket for ticket in dict.fromkeys(r.ticket_id for r in records if r.ticket_id)]
        watched = [ticket for ticket in tickets if self._holds_reports(ticket)]
        self.note(watched)

    def pull_finished(self, source: str) -> None:
        self.wake()

    # -- links and first replies -----------------------------------------------------------------
    def ticket_changed(self, ticket_id: str) -> None:
        """A link or an unlink touched ticket_id (tag, /bug link, a button): refresh its reports' cards."""
        self.note([ticket_id])
        self.wake()

    def first_reply(self, report_id: str, channel: str, ts: str, note: str) -> None:
        """The bot's first answer in a report's thread: it becomes the report's status card. Remembered only
        when it says something the card keeps (`note`: the tag problems); a plain answer is found again in
        its thread by its answer key when the card is first needed (the transport reads the thread back,
        bot/slack/status_cards.py), so that answering a burst costs no store write per answer."""
        if not note:
            return
        # one conditional write: the first answer's card is kept, a later one changes nothing
        self.store.add_meta(
            CARD_PREFIX + report_id, {"channel": channel, "ts": ts, "note": note[:NOTE_LIMIT]}
        )

    def report_deleted(self, report_id: str) -> None:
        """The report was deleted in Slack: forget the words of its first answer kept for its card (they
        may quote its tags); where the card is stays, so that the card can still be kept current."""
        key = CARD_PREFIX + report_id
        card = self.store.get_meta(key)
        if card is not None and card.get("note"):
            self.store.put_meta(key, {**card, "note": ""})

    # -- pending tickets, kept in the store --------------------------------------------------------
    def note(self, tickets: Iterable[str]) -> None:
        tickets = list(tickets)
        if not tickets:
            return
        with self._pending_lock:
            pending = self.pending()
            added = [ticket for ticket in tickets if ticket not in pending]
            if added:
                self.store.put_meta(PENDING_KEY, {"tickets": pending + added})

    def pending(self) -> list[str]:
        return list((self.store.get_meta(PENDING_KEY) or {}).get("tickets") or [])

    def _done(self, tickets: set[str]) -> None:
        with self._pending_lock:
            pending = self.pending()
            left = [ticket for ticket in pending if ticket not in tickets]
            if left != pending:
                self.store.put_meta(PENDING_KEY, {"tickets": left})

    def _holds_reports(self, ticket_id: str) -> bool:
        try:
            view = self.store.show(ticket_id, include_deleted=True)
        except TicketNotFound:
            return False
        return any(record.source_system == "slack" for record in view.records)

    # -- announcing ------------------------------------------------------------------------------
    def flush(self) -> int:
        """Announce every pending ticket; the number of reports told. A ticket whose announcement failed
        stays pending (the next flush tries again)."""
        if self.transport is None:
            return 0
        told, finished = 0, set()
        for ticket in self.pending():
            try:
                count, complete = self._announce_ticket(ticket)
            except Exception:  # Slack down, a 5xx after retries, the store unreachable: try again later
                log.exception("status of %s not announced yet; will try again", ticket)
                continue
            told += count
            if complete:
                finished.add(ticket)
        self._done(finished)
        return told

    def _announce_ticket(self, ticket_id: str) -> tuple[int, bool]:
        """(reports told, complete): not complete while another instance holds the claim of one."""
        assert self.transport is not None
        try:
            view = self.store.show(ticket_id, include_deleted=True)
        except TicketNotFound:
            return 0, True
        told, complete = 0, True
        whole = view
        for report in [r for r in whole.records if r.source_system == "slack"]:
            key = CARD_PREFIX + report.home_id
            card = self.store.get_meta(key) or {}
            view = self._as_seen_by(whole, report, card)
            shown = fingerprint(view)
            if card.get("shown") == shown:
                continue  # nothing new for this report
            if view.ticket_id == report.home_id and not card.get("shown"):
                continue  # never linked, never shown a card: nothing to tell
            claim = f"status:{report.home_id}:{_digest(shown)}"
            if self.claims is not None and not self.claims.once(claim):
                complete = False  # another instance is announcing it: look again at the next flush
                continue
            announcement = Announcement(report, view, card, transitions(view, card.get("types") or {}))
            try:
                kept = self.transport.announce(announcement)
            except CardUnreachable as exc:
                STATUS_CARDS_UNREACHABLE.labels(str(exc)).inc()
                log.warning("status card of %s cannot be updated (%s): not retried", report.home_id, exc)
                kept = {"unreachable": str(exc)}
            except BaseException:
                if self.claims is not None:
                    self.claims.release(claim)
                raise
            self.store.put_meta(key, {**card, **kept, "shown": shown, "types": state_types(view)})
            told += 1
        return told, complete

    def _as_seen_by(self, view: TicketView, report: BugRecord, card: dict[str, Any]) -> TicketView:
        """The view as the report's thread may show it: what every member of its channel may read (a ticket
        they may not all read: its ids and states only, bot/slack/readers.py withheld)."""
        channel = card.get("channel") or report.attributes.get("channel")
        if self.fits_channel is None or not channel:
            return view
        fits = self.fits_channel
        own = report.source_record
        shown = (r if r.source_record == own or fits(channel, r) else withheld(r) for r in view.records)
        return replace(view, records=tuple(r for r in shown if r is not None))

    # -- the worker thread -------------------------------------------------------------------------
    def wake(self) -> None:
        self._due.set()
        super().wake()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests and the console: True once nothing is waiting to be flushed."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy and not self._due.is_set(), timeout)

    def step(self) -> None:
        with self._idle:
            self._busy = True
            self._due.clear()
        try:
            self.flush()
        except BugTrackerError as exc:
            log.warning("status updates paused: %s", exc)
        finally:
            with self._idle:
                self._busy = False
                self._idle.notify_all()


def _digest(shown: list[list[Any]]) -> str:
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:16]
