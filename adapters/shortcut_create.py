"""Creating a Shortcut story from a report (POST /stories), finding it again by its creation key, and
reading one story by id (a link to a story no pull has stored yet).

The modal's choices (workflow states, teams, projects, the Priority field's values) are read from the API
and cached for CHOICES_SECONDS. The priority is set through the custom field whose `canonical_name` is
`priority` (never a field that merely looks like one); the default workflow state is the default workflow's
`default_state_id` (GET /member → workspace2.default_workflow_id), where Shortcut itself puts new stories.

POST /stories takes a project XOR a workflow state ("rejects the request if both or neither are
specified"): a story filed into a project sends `project_id` alone (it enters the project's workflow at that
workflow's default state); any other sends the state picked, or the default one.
A story is found again by its creation key through POST /stories/search's `external_id` filter (no
permalink needed: the console and the CLI create without one); only an exact match counts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.create import DESCRIPTION_LIMIT, TITLE_LIMIT, CreateRefused, TicketDraft
from adapters.pull import UpstreamError
from adapters.shortcut import as_priority, story_to_record
from adapters.shortcut_http import ShortcutHttp
from storage.model import BugRecord

log = logging.getLogger(__name__)

CHOICES_SECONDS = 600.0


@dataclass(frozen=True)
class ShortcutChoices:
    states: dict[int, dict[str, str]]  # every workflow state: id -> {"name", "type"}
    state_options: list[tuple[int, str]] = field(default_factory=list)  # (id, "Workflow / State")
    default_state_id: int | None = None
    groups: list[tuple[str, str]] = field(default_factory=list)  # teams: (id, name)
    projects: list[tuple[int, str]] = field(default_factory=list)
    priority_field_id: str | None = None
    priority_values: dict[str, str] = field(default_factory=dict)  # our priority -> enum value id

    @property
    def priority_fields(self) -> frozenset[str]:
        return frozenset({self.priority_field_id} if self.priority_field_id else set())


def _listed(body: Any) -> list[dict[str, Any]]:
    return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []


class ShortcutCreate:
    name = "shortcut"

    def __init__(
        self,
        http: ShortcutHttp,
        cache_seconds: float = CHOICES_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._choices: ShortcutChoices | None = None
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    # -- the modal's choices ----------------------------------------------------------------------
    def choices(self, refresh: bool = False) -> ShortcutChoices:
        with self._lock:
            if refresh or self._choices is None or self.clock() - self._read_at > self.cache_seconds:
                self._choices, self._read_at = self._read_choices(), self.clock()
            return self._choices

    def cached_choices(self) -> ShortcutChoices | None:
        """The choices last read, however old: for checks that must not wait on the network."""
        return self._choices

    def _read_choices(self) -> ShortcutChoices:
        api = self.http.api_url
        workflows = _listed(self.http.get_json(f"{api}/workflows", None))
        member = self.http.get_json(f"{api}/member", None)
        workspace = member.get("workspace2") if isinstance(member, dict) else None
        default_workflow = workspace.get("default_workflow_id") if isinstance(workspace, dict) else None
        states: dict[int, dict[str, str]] = {}
        options: list[tuple[int, str]] = []
        default_state = None
        ordered = sorted(workflows, key=lambda flow: flow.get("id") != default_workflow)  # default first
        for workflow in ordered:
            if default_state is None and isinstance(workflow.get("default_state_id"), int):
                default_state = workflow["default_state_id"]  # where the default workflow's stories enter
            flow_states = sorted(_listed(workflow.get("states")), key=lambda s: s.get("position") or 0)
            for state in flow_states:
                if not isinstance(state.get("id"), int):
                    continue
                states[state["id"]] = {"name": str(state.get("name")), "type": str(state.get("type"))}
                options.append((state["id"], f"{workflow.get('name')} / {state.get('name')}"))
        field_id, values = self._priority_field()
        return ShortcutChoices(
            states=states,
            state_options=options,
            default_state_id=default_state,
            groups=[(str(g["id"]), str(g.get("name"))) for g in self._optional("groups") if g.get("id")],
            projects=[(int(p["id"]), str(p.get("name"))) for p in self._optional("projects") if p.get("id")],
            priority_field_id=field_id,
            priority_values=values,
        )

    def _optional(self, what: str) -> list[dict[str, Any]]:
        """Teams / projects, unarchived; a workspace without them (or a plan without the API) has none."""
        try:
            items = _listed(self.http.get_json(f"{self.http.api_url}/{what}", None, missing_ok=True))
        except UpstreamError as exc:
            log.info("Shortcut %s not offered: %s", what, exc)
            return []
        return [item for item in items if not item.get("archived")]

    def _priority_field(self) -> tuple[str | None, dict[str, str]]:
        for custom in _listed(self.http.get_json(f"{self.http.api_url}/custom-fields", None)):
            if custom.get("canonical_name") != "priority" or custom.get("enabled") is False:
                continue
            values: dict[str, str] = {}
            for value in _listed(custom.get("values")):
                ours = as_priority(value.get("value"))
                if ours and value.get("enabled", True) and ours not in values:
                    values[ours] = str(value.get("id"))
            return str(custom.get("id")), values
        return None, {}

    # -- create / find / fetch --------------------------------------------------------------------
    def create(self, draft: TicketDraft, key: str) -> BugRecord:
        choices = self.choices()
        body: dict[str, Any] = {
            "name": draft.title[:TITLE_LIMIT] or "Bug reported in Slack",
            "description": draft.description[:DESCRIPTION_LIMIT],
            "story_type": "bug",
            "external_id": key,
        }
        if draft.project_id:
            body["project_id"] = draft.project_id  # alone: the project's workflow picks the state
        else:
            state_id = draft.workflow_state_id or choices.default_state_id
            if state_id is None:
                raise CreateRefused(
                    "Shortcut's default workflow names no default state; pick a workflow state or a project"
                )
            body["workflow_state_id"] = state_id
        if draft.permalink:
            body["external_links"] = [draft.permalink]
        if draft.group_id:
            body["group_id"] = draft.group_id
        if draft.priority:
            value_id = choices.priority_values.get(draft.priority)
            if choices.priority_field_id is None or value_id is None:
                raise CreateRefused(
                    f"Shortcut has no Priority field value for {draft.priority}; pick no priority or another"
                )
            body["custom_fields"] = [{"field_id": choices.priority_field_id, "value_id": value_id}]
        story = self.http.create_json(f"{self.http.api_url}/stories", body)
        return self._record(story)

    def find(self, key: str, permalink: str | None = None) -> BugRecord | None:
        """The story created with this key: POST /stories/search by `external_id` (exact match only)."""
        stories = self.http.post_json(f"{self.http.api_url}/stories/search", {"external_id": key})
        for story in _listed(stories):
            if story.get("external_id") == key:
                return self._record(story)
        return None

    def fetch(self, item_id: int) -> BugRecord | None:
        """GET /stories/{id}: its record, or None when Shortcut has no such story (404)."""
        story = self.http.get_json(f"{self.http.api_url}/stories/{int(item_id)}", None, missing_ok=True)
        return None if story is None else self._record(story)

    def _record(self, story: Any) -> BugRecord:
        choices = self.choices()
        if isinstance(story, dict) and story.get("workflow_state_id") not in choices.states:
            choices = self.choices(refresh=True)  # a state made since the cache was read
        return story_to_record(story, choices.states, choices.priority_fields)
