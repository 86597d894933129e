"""The loop back to support (ZENDESK_NOTES=on): when a bug's Shortcut story is done (a done state, archived or
deleted), every Zendesk ticket linked under it gets ONE internal note naming the story, its final state and
its link.

How "exactly once" holds across restarts, retries and several instances (docs/impact.md):
- The sync runner tells `records_changed` (bot/sync/changes.py) of every story it wrote, before the page's
  checkpoint. A story seen done while its kept state (meta `notes:story:<SC-id>`) says open starts a new
  *round* (round 1, 2, … : reopened and done again notes again); the round is queued in meta `notes:pending`.
  The sync of a source runs under its lease, so one instance at a time decides rounds.
- The worker sends each (round, ticket) note under a claim (bot/slack/claims.py's store claim, so one instance
  at a time; a holder on this host whose process is gone is taken over at once, one elsewhere expires after
  CLAIM_SECONDS), recording `sending` in meta `note:<SC-id>:<round>:<ZD-id>` BEFORE the request and `sent`
  after.
  A note found `sending` (a process killed mid-send, an answer lost) is settled by reading the ticket's
  comments for the note's marker: found, it is `sent`; not found, it is sent again.
- Failures stay queued, retried at the next pass and counted (bugtracker_zendesk_notes{outcome}). A ticket
  Zendesk refuses (closed, gone, no permission) is `refused`, counted once, never retried.
Notes are paced (NOTES_PER_MINUTE) and zenpy waits on 429s within its budget (adapters/zendesk_notes.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from adapters.zendesk_notes import NoteRefused, NoteUnknown
from bot.metrics.registry import ZENDESK_NOTES
from bot.sync.changes import ChangeNotifier
from bot.worker import Worker
from storage.errors import BugTrackerError, TicketNotFound
from storage.model import ARCHIVED_STATE, BugRecord, now_timestamp
from storage.store import BugStore

log = logging.getLogger(__name__)

PENDING_KEY = "notes:pending"
NOTES_PER_MINUTE = 20  # well inside Zendesk's ticket-update limits (and 700 requests a minute on most plans)
CLAIM_SECONDS = 60.0  # how long one instance holds a note before another may settle it (a send takes seconds)
RETRY_SECONDS = 30.0  # how often the queue is looked at besides after each pull (what another left)


class Notes(Protocol):
    def add_internal_note(self, ticket_id: int, text: str) -> None: ...

    def has_note(self, ticket_id: int, marker: str) -> bool: ...


class ClaimsLike(Protocol):
    def once(self, name: str) -> bool: ...

    def take_from_the_dead(self, name: str) -> bool: ...

    def release(self, name: str) -> None: ...


def is_done(story: BugRecord) -> bool:
    return story.deleted or story.state_type == "done" or story.state == ARCHIVED_STATE


def marker(story_id: str, round_number: int) -> str:
    return f"[bugtracker {story_id} round {round_number}]"


def note_text(story: BugRecord, round_number: int) -> str:
    if story.deleted:
        final = "deleted in Shortcut"
    elif story.state == ARCHIVED_STATE:
        final = "archived"
    else:
        final = f"done ({story.state or 'done'})"
    title = " ".join(story.title.split())[:200]
    lines = [
        f'Engineering update: Shortcut story {story.home_id} "{title}" is {final}.',
        *([story.url] if story.url and not story.deleted else []),
        "This ticket is linked to it in the bug tracker. (Internal note, not visible to the requester.)",
        marker(story.home_id, round_number),
    ]
    return "\n".join(lines)


class SupportNotes(Worker):
    """The ChangeNotifier (bot/sync/changes.py) that queues rounds, and the worker that sends their notes."""

    def __init__(
        self,
        store: BugStore,
        notes: Notes,
        claims: ClaimsLike,
        per_minute: float = NOTES_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__("zendesk-notes", every=RETRY_SECONDS)
        self.store, self.notes, self.claims = store, notes, claims
        self.gap = 60.0 / per_minute
        self.clock = clock
        self._last_sent = float("-inf")

    # -- the ChangeNotifier port -----------------------------------------------------------------------
    def records_changed(self, records: list[BugRecord]) -> None:
        for story in records:
            if story.source_system == "shortcut":
                self._story_seen(story)

    def pull_finished(self, source: str) -> None:
        self.wake()

    def _story_seen(self, story: BugRecord) -> None:
        key = f"notes:story:{story.home_id}"
        kept = self.store.get_meta(key) or {"done": False, "round": 0}
        done = is_done(story)
        if done == bool(kept.get("done")):
            return
        round_number = int(kept.get("round") or 0) + (1 if done else 0)
        if done:  # queued first: a crash between the two writes queues a round the kept state then repeats
            pending = self.pending()
            entry = f"{story.home_id}#{round_number}"
            if entry not in pending:
                self.store.put_meta(PENDING_KEY, {"rounds": [*pending, entry]})
        self.store.put_meta(key, {"done": done, "round": round_number, "at": now_timestamp()})

    def pending(self) -> list[str]:
        return list((self.store.get_meta(PENDING_KEY) or {}).get("rounds") or [])

    # -- the worker --------------------------------------------------------------------------------------
    def step(self) -> None:
        try:
            self.flush()
        except BugTrackerError as exc:
            log.warning("Zendesk notes paused: %s", exc)

    def flush(self) -> int:
        """Send what is pending; the number of notes sent. A round with a note not settled stays queued."""
        sent, finished = 0, []
        for entry in self.pending():
            story_id, _, round_text = entry.partition("#")
            count, complete = self._round(story_id, int(round_text))
            sent += count
            if complete:
                finished.append(entry)
        if finished:
            left = [entry for entry in self.pending() if entry not in finished]
            self.store.put_meta(PENDING_KEY, {"rounds": left})
        return sent

    def _round(self, story_id: str, round_number: int) -> tuple[int, bool]:
        try:
            view = self.store.show(story_id, include_deleted=True)
        except TicketNotFound:
            return 0, True
        story = next((r for r in view.records if r.home_id == story_id), None)
        if story is None:
            return 0, True  # the story no longer lives under its bug: nothing to say
        tickets = [r for r in view.records if r.source_system == "zendesk" and not r.deleted]
        sent, complete = 0, True
        for ticket in tickets:
            try:
                if self._note_once(story, round_number, ticket):
                    sent += 1
            except NoteUnknown as exc:
                ZENDESK_NOTES.labels("failed").inc()
                log.warning(
                    "note on %s for %s not settled (%s); tried again later", ticket.home_id, story_id, exc
                )
                complete = False
            except _Busy:
                complete = False
        return sent, complete

    def _note_once(self, story: BugRecord, round_number: int, ticket: BugRecord) -> bool:
        """Send this round's note to this ticket unless it is there already; True when sent now."""
        key = f"note:{story.home_id}:{round_number}:{ticket.home_id}"
        kept = self.store.get_meta(key) or {}
        if kept.get("status") in ("sent", "refused"):
            return False
        if not (self.claims.once(key) or self.claims.take_from_the_dead(key)):
            raise _Busy  # another instance is on it
        try:
            kept = self.store.get_meta(key) or {}  # as it is now that the claim is ours
            if kept.get("status") in ("sent", "refused"):
                return False
            tag = marker(story.home_id, round_number)
            ticket_number = int(ticket.record_id)
            if kept.get("status") == "sending" and self.notes.has_note(ticket_number, tag):
                self.store.put_meta(key, {"status": "sent", "at": now_timestamp(), "checked": True})
                return False
            self._pace()
            self.store.put_meta(key, {"status": "sending", "at": now_timestamp()})
            try:
                self.notes.add_internal_note(ticket_number, note_text(story, round_number))
            except NoteRefused as exc:
                refused = {"status": "refused", "at": now_timestamp(), "reason": str(exc)[:200]}
                self.store.put_meta(key, refused)
                ZENDESK_NOTES.labels("refused").inc()
                log.warning("Zendesk refused the note on %s for %s: %s", ticket.home_id, story.home_id, exc)
                return False
            self.store.put_meta(key, {"status": "sent", "at": now_timestamp()})
            ZENDESK_NOTES.labels("sent").inc()
            return True
        except BaseException:
            self.claims.release(key)  # let a later pass (or another instance) settle it at once
            raise

    def _pace(self) -> None:
        while (wait := self._last_sent + self.gap - self.clock()) > 0:
            self.pause(wait)
            if self.stopping:
                raise _Busy  # shutting down: the round stays queued
        self._last_sent = self.clock()


class _Busy(Exception):
    """Another instance holds this note's claim: leave the round queued."""


def fan_out(*notifiers: ChangeNotifier | None) -> ChangeNotifier | None:
    """One ChangeNotifier telling each of notifiers (None ones left out); None when there is none."""
    present = [notifier for notifier in notifiers if notifier is not None]
    if len(present) <= 1:
        return present[0] if present else None
    return _FanOut(present)


class _FanOut:
    def __init__(self, notifiers: list[ChangeNotifier]) -> None:
        self.notifiers = notifiers

    def records_changed(self, records: list[BugRecord]) -> None:
        for notifier in self.notifiers:
            notifier.records_changed(records)

    def pull_finished(self, source: str) -> None:
        for notifier in self.notifiers:
            notifier.pull_finished(source)
