"""Intake verbs, transport-agnostic: a bug-channel message, an edit, a delete, a thread reply.

Order of work for a new message: store it (upsert), then link it when it carries `ticketId=`, then answer.
Redelivery: the upsert of a repeated event is UNCHANGED, so only the INSERTED delivery earns a thread
reply (at most one reply per message). A crash between the store and the reply loses that one reply, never
the record; linking is re-run on every delivery, so a crash between store and link heals on redelivery.

Nothing acked is lost: a top-level report is `seen` by the channel's low-water mark (bot/slack/watermark.py)
before it is written and `stored` after, so the mark never passes it while its write is failing; the
listener retries a failed write (bot/slack/retry.py) and the sweep (bot/slack/sweep.py) reads the history
from the mark. Round trips (DynamoDB): a new report without a tag is one conditional write and no read, a
redelivery that write refused (it returns the stored copy); the mark is saved at most every 15 s per channel.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from adapters import slack_message
from adapters.pull import UpstreamError
from bot.slack.home_data import own_report_entry
from bot.slack.watermark import Watermarks
from bot.tickets.link import (
    ActorOf,
    check_readable,
    may_link_report,
    operator,
    read_unknown,
    stored,
    unseen,
)
from bot.tickets.upstreams import Upstreams
from bot.tombstones import is_deleted, record_deletion
from storage.errors import (
    BugTrackerError,
    ConcurrentUpdate,
    LinkRefused,
    StoreError,
    StoreUnavailable,
)
from storage.model import BugRecord, home_id, timestamp_from_epoch
from storage.store import UNREAD, BugStore
from storage.values import UpsertOutcome

log = logging.getLogger(__name__)

MessageFetcher = Callable[[str, str], "dict[str, Any] | None"]  # (channel, ts) -> the message, from Slack
STORE_FAILURES = (StoreUnavailable, StoreError)  # the store failing: retried, the report stays pending
CHANGED = (UpsertOutcome.INSERTED, UpsertOutcome.UPDATED)
MAX_ERASE_TRIES = 8


@dataclass(frozen=True)
class IntakeResult:
    """What happened to one event, for the transport to render (bot/slack/blocks.py), posted in the thread."""

    kind: str  # message / edit / delete / reply
    home_id: str  # SL-<ts> of the report
    ticket_id: str | None = None  # where the report lives now
    outcome: UpsertOutcome | None = None
    priority: str | None = None
    linked: str | None = None  # a link made by this event: "SL-1 -> ZD-2"
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # said beside the answer (a linked ticket not known here, say)
    reply: bool = False  # whether this event deserves an answer in the thread
    event_ts: str | None = None  # the event answered (message ts, edit's edited.ts, reply ts): claim key
    exclusive: bool = False  # the write that earned the answer was once-only itself (a new report's insert)
    check_thread: bool = False  # re-derived (bot/slack/sweep.py): answered only if its thread lacks it
    record: BugRecord | None = None  # the report as this event left it stored (None: not known here)


class StoreHealth:
    """Whether the intake's store calls are failing now, and since when (for /healthz)."""

    def __init__(self, on_recovery: tuple[Callable[[], None], ...] = ()) -> None:
        """`on_recovery`: called when a call works after failures (the retry queue retries at once)."""
        self.failing_since: float | None = None
        self.last_error: str | None = None
        self.on_recovery = on_recovery
        self._lock = threading.Lock()

    @contextmanager
    def watch(self) -> Iterator[None]:
        try:
            yield
        except STORE_FAILURES as exc:
            with self._lock:
                if self.failing_since is None:
                    self.failing_since = time.time()
                self.last_error = str(exc)
            raise
        with self._lock:
            recovered = self.failing_since is not None
            self.failing_since, self.last_error = None, None
        if recovered:
            for callback in self.on_recovery:
                callback()

    def problem(self) -> str | None:
        """One line when the store is failing, None when the last call worked."""
        with self._lock:
            if self.failing_since is None:
                return None
            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.failing_since))
            return f"store writes failing since {since}: {self.last_error}"


class Intake:
    def __init__(
        self,
        store: BugStore,
        *,
        workspace_url: str | None = None,
        actor_of: ActorOf | None = None,
        thread_replies: bool = True,
        fetch_message: MessageFetcher | None = None,
        intake_bots: tuple[str, ...] = (),
        own: tuple[str | None, ...] = (),
        upstreams: Upstreams | None = None,
        health: StoreHealth | None = None,
    ) -> None:
        """`own`: our bot's user id and bot id (auth.test), whose posts are never reports; `upstreams`: the
        systems a tagged ticket no pull stored yet is read from before the link (None: not asked)."""
        self.store = store
        self.intake_bots = frozenset(intake_bots)  # SLACK_INTAKE_BOTS: bots and apps whose posts are reports
        self.own = own
        self.workspace_url = workspace_url
        self.actor_of = actor_of or operator  # a tag links as its poster (bot/tickets/link.py's rule)
        self.thread_replies = thread_replies
        # Slack: a "Create…" button under the answer of an unlinked report
        self.create_button = upstreams is not None and bool(upstreams.available())
        self.upstreams = upstreams
        self.fetch_message = fetch_message  # a thread reply's parent that was never stored is fetched
        self.watermarks = Watermarks(store)
        self.health = health or StoreHealth()  # whether its store writes fail now (for /healthz)

    def as_report(self, message: dict[str, Any], bot_user_id: str | None = None) -> dict[str, Any] | None:
        """The message as a report: a person's as it is; a listed intake bot's (a form) with `user` set to
        its reporter (slack_message `reporter_of`); None for anything else (our own posts, other bots,
        joins)."""
        own = (*self.own, bot_user_id)
        if slack_message.is_person_message(message) and message.get("user") not in own:
            return message
        if slack_message.is_intake_bot_message(message, self.intake_bots, own):
            return {**message, "user": slack_message.reporter_of(message)}
        return None

    # -- verbs -----------------------------------------------------------------------------------
    def ingest_message(
        self,
        message: dict[str, Any],
        channel: str,
        *,
        edited_ts: str | None = None,
        retried: bool = False,
        previous: BugRecord | None | object = UNREAD,
    ) -> IntakeResult:
        """Store a top-level message: new, redelivered, or read back by the sweep (with newer thread
        activity, or edited: `edited_ts` is then the edit's time and the result an "edit").

        `retried`: an earlier attempt failed on the store, so its write may have landed with the answer
        lost (a timeout after DynamoDB took it); an UNCHANGED report then still earns its answer, claimed
        (bot/slack/claims.py) so that it is posted once. `previous`: the stored copy (None: not stored) when
        the caller has just read it (the sweep reads a channel's in one batch).

        Round trips (DynamoDB): a new report without a `ticketId=` tag is one conditional write, read
        nothing first (storage try_insert); a redelivery is that write refused, which returns the stored
        copy: nothing else is read or written."""
        ts = message["ts"]
        self.watermarks.seen(channel, ts)
        try:
            with self.health.watch():
                result: IntakeResult | None = None
                if previous is UNREAD and edited_ts is None:
                    result, previous = self._insert_new(message, channel)
                if result is None:
                    if not (previous is None or isinstance(previous, BugRecord)):
                        previous = self.store.get_record("slack", ts)
                    result = self._ingest(message, channel, previous, edited_ts)
                if retried and result.kind == "message" and result.outcome is UpsertOutcome.UNCHANGED:
                    result = replace(result, reply=self.thread_replies, exclusive=False)
        except STORE_FAILURES:
            raise  # stays pending: the mark waits for it; the listener or the sweep writes it later
        except BaseException:
            self.watermarks.stored(channel, ts)  # not the store failing: retrying would not help
            raise
        self.watermarks.stored(channel, ts)
        return result

    def _insert_new(
        self, message: dict[str, Any], channel: str
    ) -> tuple[IntakeResult | None, BugRecord | None | object]:
        """A report most likely new, without a tag to check: one conditional insert, its author's list of
        reports for the Home tab kept in the same write. (the result, None) when it was new; otherwise (None,
        the stored copy if the refused write returned it, else UNREAD)."""
        ts = message["ts"]
        tags = slack_message.parse_tags(message.get("text"))
        if tags.ticket_id is not None:
            return None, UNREAD  # a tag to check and link: the general path reads the report first
        url = slack_message.permalink(self.workspace_url, channel, ts)
        record = slack_message.message_to_record(message, channel, tags, url=url)
        inserted, stored = self.store.try_insert(record, also=own_report_entry(message.get("user"), record))
        if inserted is None:
            return None, stored if stored is not None else UNREAD
        problems = list(tags.problems)
        return self._result(
            "message", record, inserted.outcome, None, problems, True, inserted.ticket_id, ts
        ), None

    def _ingest(
        self, message: dict[str, Any], channel: str, previous: BugRecord | None, edited_ts: str | None
    ) -> IntakeResult:
        ts = message["ts"]
        if edited_ts is not None and is_deleted(self.store, channel, ts):
            # an edit of a deleted report (late, redelivered, read back by the sweep, or after `bugtracker
            # delete`): deleted is terminal; nothing is written but the erase (an insert needs no such read:
            # the erased copy a deletion stores is newer than any insert of the message)
            erased = self._erase(ts, edited_ts)
            if erased is None and self._store_erased({"previous_message": message}, channel, ts, edited_ts):
                erased = self._erase(ts, edited_ts)
            if erased is not None:
                return erased
        tags = slack_message.parse_tags(slack_message.text_of(message))
        record = slack_message.message_to_record(
            message,
            channel,
            tags,
            updated_at=timestamp_from_epoch(edited_ts) if edited_ts else None,
            url=slack_message.permalink(self.workspace_url, channel, ts),
            previous=previous,
        )
        if previous is not None and record.attributes.get("last_activity") != previous.attributes.get(
            "last_activity"
        ):  # the sweep saw new thread activity: make the copy newer so that it wins
            activity = timestamp_from_epoch(record.attributes["last_activity"])
            record = replace(record, updated_at=max(record.updated_at, activity))
        problems, notes = list(tags.problems), list[str]()
        poster = message.get("user", "unknown")
        fetched, target = self._tag_target(record, previous, poster, tags.ticket_id, problems, notes)
        outcome, linked, location = self._store(record, previous, target, poster, problems)
        if linked and fetched is not None:
            self.store.upsert(fetched)  # read for the tag, stored only once the link is made
        if edited_ts is None:
            inserted = outcome is UpsertOutcome.INSERTED
            return self._result("message", record, outcome, linked, problems, inserted, location, ts, notes)
        tags_changed = previous is None or previous.attributes.get("tags") != record.attributes["tags"]
        answer = outcome in CHANGED and tags_changed
        return self._result("edit", record, outcome, linked, problems, answer, location, edited_ts, notes)

    def edit_message(self, event: dict[str, Any]) -> IntakeResult | None:
        message, channel = event.get("message") or {}, event.get("channel", "")
        if message.get("subtype") == "tombstone":  # a deleted parent that keeps its thread
            return self.delete_message({**event, "deleted_ts": message.get("ts")})
        if not message.get("edited"):
            return None  # Slack's own change (a link unfurled, language detected): no edit, nothing written
        report = self.as_report(message)
        if report is None:
            return None  # only people and the listed intake bots make reports and links
        edited_ts = message["edited"].get("ts") or event.get("event_ts") or event.get("ts")
        if slack_message.is_thread_reply(report):
            return self.thread_reply(report, channel, edited_ts=edited_ts)
        return self.ingest_edit(report, channel, edited_ts)

    def ingest_edit(
        self, message: dict[str, Any], channel: str, edited_ts: str | None
    ) -> IntakeResult | None:
        """An edited top-level message (live, or found by the sweep), stored with the edit's time. An edit
        of a message older than the bot's start in the channel that was never stored is not a report."""
        start = self.watermarks.start(channel)
        if start is not None and float(message["ts"]) < start:
            with self.health.watch():
                if self.store.get_record("slack", message["ts"]) is None:
                    return None
        return self.ingest_message(message, channel, edited_ts=edited_ts)

    def delete_message(self, event: dict[str, Any], channel: str | None = None) -> IntakeResult | None:
        """A report deleted in Slack (live, or found gone by the sweep): first its tombstone
        (bot/tombstones.py, before anything else: an insert or edit that lands later erases itself), then
        its words are erased from the store (slack_message `erased`), keeping its id, channel, author,
        times, ticket and audit entries."""
        deleted_ts = event.get("deleted_ts")
        if not deleted_ts:
            return None
        channel = channel or event.get("channel")
        when = event.get("event_ts") or event.get("ts") or deleted_ts
        with self.health.watch():
            if channel:
                record_deletion(self.store, channel, deleted_ts)
            erased = self._erase(deleted_ts, when)
            if erased is None and channel and self._store_erased(event, channel, deleted_ts, when):
                erased = self._erase(deleted_ts, when)  # the insert landed meanwhile: erase that too
            return erased

    def _store_erased(self, event: dict[str, Any], channel: str, deleted_ts: str, when: str) -> bool:
        """A report deleted before its insert was stored (it waits on the store, or its event is late): store
        its erased copy now, dated by the deletion, so that the insert, whenever it lands, is older and
        writes nothing (newer wins). Only for what would have been a report (not a thread reply, not a bot
        that is no intake bot). True when a copy was written or one is stored already."""
        previous = event.get("previous_message")
        report = self.as_report(previous) if isinstance(previous, dict) else None
        if report is None or slack_message.is_thread_reply(report):
            return False
        record = slack_message.message_to_record(
            {**report, "ts": deleted_ts},
            channel,
            slack_message.parse_tags(""),
            url=slack_message.permalink(self.workspace_url, channel, deleted_ts),
        )
        self.store.upsert(slack_message.erased(record, max(record.updated_at, timestamp_from_epoch(when))))
        # the insert may have landed first and this upsert replaced its words: no copy may stay in a WAL
        self.store.port.after_erase()
        return True

    def _erase(self, deleted_ts: str, when: str) -> IntakeResult | None:
        """Erase the stored report (nothing stored: None), retried while it changes under us."""
        for _ in range(MAX_ERASE_TRIES):
            stored = self.store.get_record("slack", deleted_ts)
            if stored is None:  # a reply, or a message from before the bot: nothing stored to erase
                return None
            if stored.deleted and slack_message.is_erased(stored):
                outcome = UpsertOutcome.UNCHANGED
                return self._result("delete", stored, outcome, None, [], False, stored.location)
            record = slack_message.erased(stored, max(stored.updated_at, timestamp_from_epoch(when)))
            if self.store.erase(stored, record):
                outcome = UpsertOutcome.UPDATED
                return self._result("delete", record, outcome, None, [], False, stored.location)
        report_id = home_id("slack", deleted_ts)
        raise ConcurrentUpdate(f"{report_id} kept changing while it was erased; will try again")

    def thread_reply(
        self, reply: dict[str, Any], channel: str, edited_ts: str | None = None
    ) -> IntakeResult | None:
        """A reply updates its report's activity; a `ticketId=` tag in it links the report. A parent that
        was never stored (posted while the bot was down) is fetched from Slack and stored first.
        `edited_ts`: the reply was edited then; its answer is claimed by that time, not by the reply's ts
        (already claimed by the answer to the reply as first written)."""
        with self.health.watch():
            parent = self.store.get_record("slack", reply["thread_ts"])
            if parent is None:
                parent = self._store_parent(reply["thread_ts"], channel)
            if parent is None:
                return None
            return self._reply(reply, parent, edited_ts)

    def _store_parent(self, thread_ts: str, channel: str) -> BugRecord | None:
        start = self.watermarks.start(channel)
        if self.fetch_message is None or (start is not None and float(thread_ts) < start):
            return None  # a thread from before the bot's start in the channel is not a report
        message = self.fetch_message(channel, thread_ts)
        report = self.as_report(message) if message is not None else None
        if report is None or slack_message.is_thread_reply(report):
            return None
        self.ingest_message(report, channel)
        return self.store.get_record("slack", thread_ts)

    def _reply(self, reply: dict[str, Any], parent: BugRecord, edited_ts: str | None = None) -> IntakeResult:
        outcome: UpsertOutcome | None = None
        location: str | None = parent.location
        # a report deleted in Slack keeps only what erased() keeps: its thread's activity is not recorded
        if not parent.deleted and float(reply["ts"]) > float(parent.attributes.get("last_activity") or 0):
            attributes = {
                **parent.attributes,
                "reply_count": int(parent.attributes.get("reply_count") or 0) + 1,
                "last_activity": reply["ts"],
            }
            updated_at = max(parent.updated_at, timestamp_from_epoch(reply["ts"]))
            seen, parent = (
                parent,
                replace(parent, attributes=attributes, updated_at=updated_at, ticket_id=None),
            )
            result = self.store.upsert(parent, seen=seen)
            outcome, location = result.outcome, result.ticket_id
        tags = slack_message.parse_tags(reply.get("text"))
        problems, linked, notes = list(tags.problems), None, list[str]()
        user = reply.get("user", "unknown")
        if tags.ticket_id:
            fetched, target = self._tag_target(parent, parent, user, tags.ticket_id, problems, notes)
            if target is not None:
                linked = self._link(parent.home_id, target, user, problems)
            if linked and fetched is not None:
                self.store.upsert(fetched)  # read for the tag, stored only once the link is made
        answer = bool(linked) or (bool(problems) and outcome in CHANGED)
        # a link made here moved the report: look its place up again
        location = None if linked else location
        event_ts = edited_ts or reply["ts"]
        return self._result("reply", parent, outcome, linked, problems, answer, location, event_ts, notes)

    # -- helpers ---------------------------------------------------------------------------------
    def _tag_target(
        self,
        report: BugRecord,
        previous: BugRecord | None,
        poster: str,
        target: str | None,
        problems: list[str],
        notes: list[str],
    ) -> tuple[BugRecord | None, str | None]:
        """A `ticketId=` tag links as its poster, by the one rule (bot/tickets/link.py): they must read the
        report and the ticket and may link it (`previous`: what is stored now; None for a new report, hers).
        A Zendesk ticket / Shortcut story no pull stored is read from its system only for them and only when
        the pull would take it (returned, to store once the link is made); one whose system does not answer
        is linked with a note. Anything refused: the report is stored unlinked and the answer says why."""
        if target is None:
            return None, None
        try:
            actor = self.actor_of(poster)
            if not actor.reads.may_read(report):
                raise unseen(target)
            if previous is not None and not may_link_report(self.store, previous, actor, target):
                problems.append(f"{poster} may not link this report (BUG_LINKERS); ask someone who may")
                return None, None
            if stored(self.store, target):
                check_readable(self.store, target, actor, whole=False)
                return None, target
            fetched, note = read_unknown(self.store, self.upstreams, target, actor)
        except UpstreamError as exc:
            notes.append(f"{target} could not be checked ({exc}); linked all the same")
            return None, target
        except BugTrackerError as exc:  # unseen, or who reads what could not be told (ReadersUnavailable)
            problems.append(f"could not link {report.home_id} to {target}: {exc}")
            return None, None
        if note:
            notes.append(note)
        return fetched, target

    def _store(
        self,
        record: BugRecord,
        previous: BugRecord | None,
        target: str | None,
        actor: str,
        problems: list[str],
    ) -> tuple[UpsertOutcome, str | None, str | None]:
        """Store the report; with a `ticketId=` tag, store it linked (a new one lives under the ticket from
        the start). A refused link keeps the report stored and says why in the thread.
        Returns the outcome, the link made ("SL-1 -> ZD-2") if any, and where the report lives now."""
        own = own_report_entry(actor, record) if previous is None else []
        if target is None:
            result = self.store.upsert(record, seen=previous, also=own)
            return result.outcome, None, result.ticket_id
        try:
            result, link = self.store.upsert_linked(record, target, actor, also=own)
        except LinkRefused as exc:
            problems.append(f"could not link {record.home_id} to {target}: {exc}")
            stored = self.store.get_record("slack", record.record_id)
            location = stored.location if stored else None
            if previous is None:
                return UpsertOutcome.INSERTED, None, location
            changed = stored is not None and stored.updated_at != previous.updated_at
            return (UpsertOutcome.UPDATED if changed else UpsertOutcome.UNCHANGED), None, location
        made = None if link.already else f"{record.home_id} -> {link.resolved_target}"
        return result.outcome, made, result.ticket_id

    def _link(self, source_id: str, target_id: str, actor: str, problems: list[str]) -> str | None:
        try:
            result = self.store.link(source_id, target_id, actor)
        except STORE_FAILURES:
            raise  # the store failing is not a refusal: the event is retried
        except BugTrackerError as exc:
            problems.append(f"could not link {source_id} to {target_id}: {exc}")
            return None
        return None if result.already else f"{source_id} -> {result.resolved_target}"

    def _result(
        self,
        kind: str,
        record: BugRecord,
        outcome: UpsertOutcome | None,
        linked: str | None,
        problems: list[str],
        reply: bool,
        location: str | None,
        event_ts: str | None = None,
        notes: list[str] | None = None,
    ) -> IntakeResult:
        """`location`: where the report lives, when the write just told us; otherwise it is looked up."""
        location = location or self.store.resolve(record.home_id)[-1]
        return IntakeResult(
            kind=kind,
            home_id=home_id("slack", record.record_id),
            ticket_id=location,
            outcome=outcome,
            priority=record.priority,
            linked=linked,
            problems=tuple(problems),
            notes=tuple(notes or ()),
            reply=reply and self.thread_replies,
            event_ts=event_ts,
            exclusive=kind == "message" and outcome is UpsertOutcome.INSERTED,
            record=replace(record, ticket_id=location) if kind != "reply" else None,
        )
