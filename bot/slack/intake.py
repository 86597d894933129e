"""Intake verbs, transport-agnostic: a bug-channel message, an edit, a delete, a thread reply, catch-up.

Order of work for a new message: store it (upsert), then link it when it carries `ticketId=`, then answer.
Redelivery: the upsert of a repeated event is UNCHANGED, so only the INSERTED delivery earns a thread
reply (at most one reply per message). A crash between the store and the reply loses that one reply, never
the record; linking is re-run on every delivery, so a crash between store and link heals on redelivery.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from adapters import slack
from storage.errors import BugTrackerError, LinkRefused
from storage.model import BugRecord, home_id, timestamp_from_epoch
from storage.store import BugStore, UpsertOutcome

log = logging.getLogger(__name__)

LinkPermission = Callable[[str], bool]


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
    reply: bool = False  # whether this event deserves an answer in the thread


class Intake:
    def __init__(
        self,
        store: BugStore,
        *,
        workspace_url: str | None = None,
        may_link: LinkPermission | None = None,
        thread_replies: bool = True,
    ) -> None:
        self.store = store
        self.workspace_url = workspace_url
        self.may_link = may_link or (lambda user: True)
        self.thread_replies = thread_replies
        self._last_ts: dict[str, float] = {}
        self._last_ts_lock = threading.Lock()  # listeners run on a thread pool

    # -- verbs -----------------------------------------------------------------------------------
    def ingest_message(self, message: dict[str, Any], channel: str) -> IntakeResult:
        tags = slack.parse_tags(message.get("text"))
        ts = message["ts"]
        previous = self.store.get_record("slack", ts)
        record = slack.message_to_record(
            message, channel, tags, url=slack.permalink(self.workspace_url, channel, ts), previous=previous
        )
        if previous is not None and record.attributes.get("last_activity") != previous.attributes.get(
            "last_activity"
        ):  # catch-up saw new thread activity: make the copy newer so that it wins
            record = replace(record, updated_at=timestamp_from_epoch(record.attributes["last_activity"]))
        problems = list(tags.problems)
        outcome, linked, location = self._store(
            record, previous, tags.ticket_id, message.get("user", "unknown"), problems
        )
        self._remember(channel, ts)
        inserted = outcome is UpsertOutcome.INSERTED
        return self._result("message", record, outcome, linked, problems, inserted, location)

    def edit_message(self, event: dict[str, Any]) -> IntakeResult | None:
        message, channel = event.get("message") or {}, event.get("channel", "")
        if message.get("subtype") == "tombstone":  # a deleted parent that keeps its thread
            return self.delete_message({**event, "deleted_ts": message.get("ts")})
        if not slack.is_person_message(message) or slack.is_thread_reply(message):
            return None if not slack.is_thread_reply(message) else self.thread_reply(message, channel)
        previous = self.store.get_record("slack", message["ts"])
        tags = slack.parse_tags(message.get("text"))
        edited_ts = (message.get("edited") or {}).get("ts") or event.get("event_ts") or event.get("ts")
        record = slack.message_to_record(
            message,
            channel,
            tags,
            updated_at=timestamp_from_epoch(edited_ts),
            url=slack.permalink(self.workspace_url, channel, message["ts"]),
            previous=previous,
        )
        problems = list(tags.problems)
        outcome, linked, location = self._store(
            record, previous, tags.ticket_id, message.get("user", "unknown"), problems
        )
        tags_changed = previous is None or previous.attributes.get("tags") != record.attributes["tags"]
        changed = outcome in (UpsertOutcome.INSERTED, UpsertOutcome.UPDATED)
        return self._result("edit", record, outcome, linked, problems, changed and tags_changed, location)

    def delete_message(self, event: dict[str, Any]) -> IntakeResult | None:
        deleted_ts = event.get("deleted_ts")
        stored = self.store.get_record("slack", deleted_ts) if deleted_ts else None
        if stored is None:  # a reply, or a message from before the bot: nothing stored to mark
            return None
        when = event.get("event_ts") or event.get("ts") or deleted_ts
        updated_at = max(stored.updated_at, timestamp_from_epoch(when))
        record = replace(stored, deleted=True, updated_at=updated_at, ticket_id=None)
        result = self.store.upsert(record)
        return self._result("delete", record, result.outcome, None, [], False, result.ticket_id)

    def thread_reply(self, reply: dict[str, Any], channel: str) -> IntakeResult | None:
        """A reply updates its report's activity; a `ticketId=` tag in it links the report."""
        parent = self.store.get_record("slack", reply["thread_ts"])
        if parent is None:
            return None
        outcome: UpsertOutcome | None = None
        location: str | None = parent.location
        if float(reply["ts"]) > float(parent.attributes.get("last_activity") or 0):
            attributes = {
                **parent.attributes,
                "reply_count": int(parent.attributes.get("reply_count") or 0) + 1,
                "last_activity": reply["ts"],
            }
            updated_at = max(parent.updated_at, timestamp_from_epoch(reply["ts"]))
            parent = replace(parent, attributes=attributes, updated_at=updated_at, ticket_id=None)
            result = self.store.upsert(parent)
            outcome, location = result.outcome, result.ticket_id
        tags = slack.parse_tags(reply.get("text"))
        problems, linked = list(tags.problems), None
        user = reply.get("user", "unknown")
        if tags.ticket_id:
            if user == parent.attributes.get("author") or self.may_link(user):
                linked = self._link(parent.home_id, tags.ticket_id, user, problems)
            else:
                problems.append(f"{user} may not link reports (BUG_LINKERS); ask someone who may")
        answer = bool(linked) or (bool(problems) and outcome is not None)
        # a link made here moved the report: look its place up again
        return self._result("reply", parent, outcome, linked, problems, answer, None if linked else location)

    def catch_up(self, channel: str, history: Callable[[str | None], Iterable[dict[str, Any]]]) -> list:
        """Ingest what `history(oldest_ts)` returns (oldest first) since the newest message stored."""
        saved = self.store.get_meta(f"slack:last_ts:{channel}") or {}
        results = []
        for message in history(saved.get("ts")):
            if slack.is_person_message(message) and not slack.is_thread_reply(message):
                results.append(self.ingest_message(message, channel))
        return results

    # -- helpers ---------------------------------------------------------------------------------
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
        if target is None:
            result = self.store.upsert(record)
            return result.outcome, None, result.ticket_id
        try:
            result, link = self.store.upsert_linked(record, target, actor)
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
        except BugTrackerError as exc:
            problems.append(f"could not link {source_id} to {target_id}: {exc}")
            return None
        return None if result.already else f"{source_id} -> {result.resolved_target}"

    def _remember(self, channel: str, ts: str) -> None:
        """Save the newest stored ts per channel: catch-up starts there."""
        with self._last_ts_lock:
            self._save_last_ts(channel, ts)

    def _save_last_ts(self, channel: str, ts: str) -> None:
        if channel not in self._last_ts:
            saved = self.store.get_meta(f"slack:last_ts:{channel}") or {}
            self._last_ts[channel] = float(saved.get("ts") or 0)
        if float(ts) > self._last_ts[channel]:
            self.store.put_meta(f"slack:last_ts:{channel}", {"ts": ts})
            self._last_ts[channel] = float(ts)

    def _result(
        self,
        kind: str,
        record: BugRecord,
        outcome: UpsertOutcome | None,
        linked: str | None,
        problems: list[str],
        reply: bool,
        location: str | None,
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
            reply=reply and self.thread_replies,
        )
