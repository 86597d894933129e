"""A local fake Shortcut REST API v3: story search with day-granular `updated:` ranges read in the workspace's
time zone (`utc_offset`, US-Pacific unless set), `next` paging (250 a page at most; paging past the first 1000
results answers the real 400 `maximum-results-exceeded`), POST /stories/search with `updated_at_start` /
`updated_at_end` and `created_at_start` / `created_at_end` date-times (both bounds included; a plain array, at
most 1000 stories: truncated, or the 400 with `post_cap="error"`), GET /member (the workspace's `utc_offset`),
workflows (the four state types, backlog included), custom fields (a Severity field listed before the built-in
Priority field, and a team field without a canonical name), GET /stories/{id} (404 once a story is deleted),
the Shortcut-Token header, injected 429s / 5xx, and optionally Shortcut's 200 requests a minute
(`rate_limit=(200, 60.0)`: 429 past it). Not kinder than Shortcut: search never returns deleted stories and
returns archived ones (`archived: true`) unless the query says `!is:archived` (`is:archived`: only those).
Creating: POST /stories checks the body against CreateStoryParams (400 on a schema mismatch: `name` 1-512
characters, no unknown property; 422 on a workflow_state_id, group or project that does not exist, or a custom
field value that is not one of the field's; 422 unless exactly one of workflow_state_id and project_id is
given, as Shortcut "will reject the request if both or neither are specified"), answers 201 with the new Story
(a project's story enters the workflow's `default_state_id`) and serves it from search and GET /stories/{id}
from then on. POST /stories/search filters by `external_id` (exact match). /groups, /projects and
/external-link/stories?external_link= answer as the spec says. `read_only=True`: an Observer's token (every
POST /stories answers 403).

Payloads follow the Story / StorySlim / StorySearchResults / Workflow / MemberInfo definitions of the swagger
kept beside this file, `SWAGGER` (tests/integration/adapters/test_shortcut_fake_schema.py checks them
against it).
"""

from __future__ import annotations

import base64
import functools
import json
import math
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.fakes.json_http import JsonServer
from tests.fakes.rate_window import RateWindow

# Shortcut's published REST v3 swagger, vendored so that every checkout checks the fake's shapes against it.
SWAGGER = Path(__file__).with_name("shortcut.swagger.json")

API = "/api/v3"
BASE = datetime(2025, 1, 1, tzinfo=UTC)
STATES = (
    (500000001, "Unscheduled", "unstarted"),
    (500000002, "Ready for Development", "unstarted"),
    (500000003, "In Development", "started"),
    (500000004, "Ready for Review", "started"),
    (500000005, "Done", "done"),
)
WORKFLOW_ID = 500000000
BACKLOG_STATE = (500000006, "Icebox", "backlog")  # in the workflow; stories get it only when asked
SEVERITY_FIELD_ID = "5f0c0000-0000-4000-8000-00000000a002"
PRIORITY_FIELD_ID = "5f0c0000-0000-4000-8000-00000000a001"
TEAM_FIELD_ID = "5f0c0000-0000-4000-8000-00000000a003"
# (id, name, canonical_name or None, values): Severity comes first, as it may in a real workspace
CUSTOM_FIELDS = (
    (SEVERITY_FIELD_ID, "Severity", "severity", ("Critical", "High", "Medium", "Low")),
    (PRIORITY_FIELD_ID, "Priority", "priority", ("Highest", "High", "Medium", "Low")),
    (TEAM_FIELD_ID, "Team", None, ("High Street", "Low Latency")),
)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _state(state_id: int, name: str, kind: str, position: int) -> dict[str, Any]:
    return {
        "description": "",
        "entity_type": "workflow-state",
        "color": "#4a90e2",
        "verb": None,
        "name": name,
        "global_id": f"v2:ws:{state_id}",
        "num_stories": 0,
        "type": kind,
        "updated_at": iso(BASE),
        "id": state_id,
        "num_story_templates": 0,
        "position": position,
        "created_at": iso(BASE),
    }


def _value_id(field_id: str, value: str) -> str:
    return f"{field_id[:-4]}{sum(map(ord, value)) % 10000:04d}"


def field_value(field_id: str, value: str) -> dict[str, str]:
    """A story's custom field value as the API gives it (StoryCustomField: ids and the value only)."""
    return {"field_id": field_id, "value_id": _value_id(field_id, value), "value": value}


def _custom_field(position: int, field_id: str, name: str, canonical: str | None, values: tuple) -> dict:
    field = {
        "entity_type": "custom-field",
        "name": name,
        "updated_at": iso(BASE),
        "id": field_id,
        "field_type": "enum",
        "position": position,
        "enabled": True,
        "created_at": iso(BASE),
        "values": [
            {
                "id": _value_id(field_id, value),
                "value": value,
                "position": number,
                "color_key": None,
                "entity_type": "custom-field-enum-value",
                "enabled": True,
            }
            for number, value in enumerate(values)
        ],
    }
    if canonical:
        field["canonical_name"] = canonical
    return field


class FakeShortcut(JsonServer):
    def __init__(
        self,
        token: str = "sc-test-token",
        max_results: int = 1000,
        utc_offset: str = "-08:00",
        post_cap: str = "truncate",
        rate_limit: tuple[int, float] | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.max_results = max_results
        self.utc_offset = utc_offset  # the workspace's: `updated:` days are its days
        self.member_utc_offset: str | None = None  # what GET /member says instead, when set
        self.days_in_utc = False  # True: search reads `updated:` / `created:` days in UTC (the other reading)
        self.workspace_id = "5f1b2c3d-0000-4000-8000-0000000000aa"
        self.post_cap = post_cap  # past max_results, POST /stories/search truncates or answers 400
        self.limiter = RateWindow(*rate_limit) if rate_limit else None
        self.stories: dict[int, dict[str, Any]] = {}
        self.states = [
            _state(sid, name, kind, n) for n, (sid, name, kind) in enumerate((BACKLOG_STATE, *STATES))
        ]
        self.custom_fields = [_custom_field(n, *field) for n, field in enumerate(CUSTOM_FIELDS)]
        self.deleted: set[int] = set()
        self.groups: list[dict[str, Any]] = []  # teams: none unless a test adds one (add_group)
        self.projects: list[dict[str, Any]] = []
        self.read_only = False
        self.next_id = 9001  # the id of the next story created through the API
        self.default_state_id = STATES[0][0]  # the workflow's: where a project's new stories enter
        self._clock = BASE
        self._clock_lock = threading.Lock()

    def _tick(self, step: timedelta) -> datetime:
        with self._clock_lock:
            self._clock += step
            return self._clock

    @property
    def api_url(self) -> str:
        return f"{self.base_url}{API}"

    def add_state(self, state_id: int, name: str, kind: str) -> None:
        self.states.append(_state(state_id, name, kind, len(self.states)))

    def add_story(
        self, story_id: int, step: timedelta = timedelta(minutes=7), **fields: Any
    ) -> dict[str, Any]:
        moment = iso(self._tick(step))
        state_id = STATES[story_id % len(STATES)][0]
        story = {
            "app_url": f"https://app.shortcut.com/acme/story/{story_id}",
            "archived": False,
            "started": state_id >= 500000003,
            "story_links": [],
            "entity_type": "story",
            "labels": [],
            "task_ids": [],
            "mention_ids": [],
            "member_mention_ids": [],
            "story_type": "bug",
            "custom_fields": [],
            "file_ids": [],
            "num_tasks_completed": 0,
            "workflow_id": WORKFLOW_ID,
            "completed_at_override": None,
            "started_at": None,
            "completed_at": None,
            "name": f"Crash on save #{story_id}",
            "global_id": f"v2:s:{story_id}",
            "completed": state_id == 500000005,
            "blocker": False,
            "epic_id": None,
            "story_template_id": None,
            "external_links": [],
            "previous_iteration_ids": [],
            "requested_by_id": "5f1b2c3d-0000-4000-8000-000000000001",
            "iteration_id": None,
            "label_ids": [],
            "started_at_override": None,
            "group_id": None,
            "workflow_state_id": state_id,
            "updated_at": moment,
            "group_mention_ids": [],
            "follower_ids": [],
            "owner_ids": [],
            "external_id": None,
            "id": story_id,
            "estimate": None,
            "position": story_id * 1000,
            "blocked": False,
            "project_id": None,
            "linked_file_ids": [],
            "deadline": None,
            "stats": {"num_related_documents": 0},
            "comment_ids": [],
            "created_at": moment,
            "moved_at": None,
        }
        story.update(fields)
        self.stories[story_id] = story
        return story

    def add_group(self, group_id: str, name: str) -> None:
        self.groups.append(
            {
                "id": group_id,
                "name": name,
                "mention_name": name.lower(),
                "archived": False,
                "entity_type": "group",
                "workflow_ids": [WORKFLOW_ID],
                "member_ids": [],
            }
        )

    def add_project(self, project_id: int, name: str) -> None:
        self.projects.append(
            {
                "id": project_id,
                "name": name,
                "archived": False,
                "entity_type": "project",
                "workflow_id": WORKFLOW_ID,
                "team_id": 1,
            }
        )

    def touch(self, story_id: int, **fields: Any) -> None:
        """Change a story upstream, now (it falls inside the next incremental window)."""
        with self._clock_lock:
            self._clock = max(self._clock + timedelta(seconds=1), datetime.now(UTC).replace(microsecond=0))
            moment = self._clock
        self.stories[story_id].update(fields, updated_at=iso(moment))

    def delete(self, story_id: int) -> None:
        """Delete a story upstream: gone from search, 404 on GET /stories/{id}."""
        with self.lock:
            self.stories.pop(story_id)
            self.deleted.add(story_id)

    # -- the API -----------------------------------------------------------------------------------
    def route_body(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes
    ) -> tuple[int, Any, dict]:
        if headers.get("Shortcut-Token") != self.token:
            return 401, {"message": "Unauthorized"}, {}
        if self.limiter is not None:
            wait = self.limiter.admit()
            if wait:  # whole seconds, unless a benchmark scaled the minute down
                retry_after = f"{wait:.3f}" if self.limiter.window < 60 else str(math.ceil(wait))
                return 429, {"message": "Too Many Requests"}, {"Retry-After": retry_after}
        if method == "POST" and path == f"{API}/stories/search":
            return self._post_search(raw)
        if method == "POST" and path == f"{API}/stories":
            return self._create(raw)
        return self.route(method, path, query, headers)

    def route(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any
    ) -> tuple[int, Any, dict]:
        if method == "GET" and path == f"{API}/member":
            return 200, self._member(), {}
        if method == "GET" and path == f"{API}/workflows":
            return 200, [self._workflow()], {}
        if method == "GET" and path == f"{API}/search/stories":
            return self._search(query)
        if method == "GET" and path == f"{API}/custom-fields":
            return 200, list(self.custom_fields), {}
        if method == "GET" and path == f"{API}/groups":
            return 200, list(self.groups), {}
        if method == "GET" and path == f"{API}/projects":
            return 200, list(self.projects), {}
        if method == "GET" and path == f"{API}/external-link/stories":
            link = query.get("external_link", [""])[0]
            if not link.startswith(("http://", "https://")):
                return 400, {"message": "external_link must be a URL"}, {}
            with self.lock:
                found = [dict(s) for _, s in sorted(self.stories.items()) if link in s["external_links"]]
            return 200, found, {}
        if method == "GET" and path.startswith(f"{API}/stories/"):
            story_id = path.removeprefix(f"{API}/stories/")
            with self.lock:
                story = self.stories.get(int(story_id)) if story_id.isdigit() else None
                if story is not None:
                    return 200, _full_story(story), {}
        return 404, {"message": "Resource does not exist"}, {}

    def _create(self, raw: bytes) -> tuple[int, Any, dict]:
        """POST /stories (CreateStoryParams): 400 on a schema mismatch, 422 on ids that name nothing."""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return 400, {"message": "Schema mismatch"}, {}
        if self.read_only:
            return 403, {"message": "You do not have permission to perform this action."}, {}
        problem = _schema_problem(body)
        if problem:
            return 400, {"message": "Schema mismatch", "errors": problem}, {}
        if ("workflow_state_id" in body) == ("project_id" in body):
            return 422, {"message": "Either workflow_state_id or project_id must be provided, not both"}, {}
        with self.lock:
            refusal = self._unprocessable(body)
            if refusal:
                return 422, {"message": refusal}, {}
            story_id, self.next_id = self.next_id, self.next_id + 1
        fields = {key: body[key] for key in _CREATE_KEEPS if key in body}
        fields.setdefault("workflow_state_id", self.default_state_id)  # a project's: its workflow's default
        fields["custom_fields"] = [
            field_value(entry["field_id"], self._value_text(entry)) for entry in body.get("custom_fields", [])
        ]
        story = self.add_story(story_id, step=timedelta(0), **fields)
        self.touch(story_id)  # made now: it falls in the next incremental window
        state_id = story["workflow_state_id"]
        self.stories[story_id].update(
            started=state_id in (500000003, 500000004), completed=state_id == 500000005
        )
        return 201, _full_story(self.stories[story_id]), {}

    def _unprocessable(self, body: dict[str, Any]) -> str | None:
        """What Shortcut refuses with 422: ids that name nothing in this workspace."""
        if "workflow_state_id" in body and body["workflow_state_id"] not in {s["id"] for s in self.states}:
            return f"workflow state {body['workflow_state_id']} does not exist"
        if body.get("group_id") and body["group_id"] not in {g["id"] for g in self.groups}:
            return f"group {body['group_id']} does not exist"
        if body.get("project_id") and body["project_id"] not in {p["id"] for p in self.projects}:
            return f"project {body['project_id']} does not exist"
        for entry in body.get("custom_fields", []):
            if self._value_text(entry) is None:
                return f"{entry.get('value_id')} is not a value of custom field {entry.get('field_id')}"
        return None

    def _value_text(self, entry: dict[str, Any]) -> Any:
        for custom in self.custom_fields:
            if custom["id"] == entry.get("field_id"):
                for value in custom["values"]:
                    if value["id"] == entry.get("value_id"):
                        return value["value"]
        return None

    def _workflow(self) -> dict[str, Any]:
        return {
            "description": "",
            "entity_type": "workflow",
            "project_ids": [],
            "states": list(self.states),
            "name": "Engineering",
            "updated_at": iso(BASE),
            "auto_assign_owner": False,
            "id": WORKFLOW_ID,
            "team_id": 1,
            "created_at": iso(BASE),
            "default_state_id": self.default_state_id,
        }

    def offset(self) -> timedelta:
        sign = -1 if self.utc_offset.startswith("-") else 1
        hours, _, minutes = self.utc_offset.lstrip("+-").partition(":")
        return sign * timedelta(hours=int(hours), minutes=int(minutes or 0))

    def _local_day(self, moment: str) -> str:
        shift = timedelta(0) if self.days_in_utc else self.offset()
        return _day_of(moment, shift)

    def _matches(self, text: str) -> list[dict[str, Any]]:
        """Stories matching a search query: `type:`, `is:archived` / `!is:archived`, `updated:A..B` and
        `created:A..B` (both days included, read in the workspace's time zone, or in UTC with
        `days_in_utc`); other operators are not modelled (ignored)."""
        kinds, low, high, archived = None, "0000-00-00", "9999-99-99", None
        made_low, made_high = "0000-00-00", "9999-99-99"
        for token in text.split():
            name, _, value = token.partition(":")
            if name == "type":
                kinds = value
            elif token in ("is:archived", "!is:archived"):
                archived = token == "is:archived"
            elif name == "updated":
                start, _, end = value.partition("..") if ".." in value else (value, "", value)
                low = start if start != "*" else low
                high = end if end != "*" else high
            elif name == "created":
                start, _, end = value.partition("..") if ".." in value else (value, "", value)
                made_low = start if start != "*" else made_low
                made_high = end if end != "*" else made_high
        with self.lock:
            return [
                dict(story)
                for _, story in sorted(self.stories.items())
                if (kinds is None or story["story_type"] == kinds)
                and low <= self._local_day(story["updated_at"] or story["created_at"]) <= high
                and made_low <= self._local_day(story["created_at"]) <= made_high
                and (archived is None or story["archived"] is archived)
            ]

    def _post_search(self, raw: bytes) -> tuple[int, Any, dict]:
        """POST /stories/search (SearchStories): date-time bounds, both included; a plain array (201)."""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"message": "Schema mismatch"}, {}
        if not isinstance(body, dict) or set(body) - SEARCH_STORIES_KEYS:
            return 400, {"message": "Schema mismatch"}, {}

        def instant(name: str, default: str) -> datetime:
            return datetime.fromisoformat(str(body.get(name) or default).replace("Z", "+00:00"))

        try:
            low = instant("updated_at_start", "0001-01-01T00:00:00+00:00")
            high = instant("updated_at_end", "9999-01-01T00:00:00+00:00")
            made_low = instant("created_at_start", "0001-01-01T00:00:00+00:00")
            made_high = instant("created_at_end", "9999-01-01T00:00:00+00:00")
        except ValueError:
            return 400, {"message": "Schema mismatch"}, {}
        with self.lock:
            found = [
                dict(story)
                for _, story in sorted(self.stories.items())
                if ("story_type" not in body or story["story_type"] == body["story_type"])
                and ("external_id" not in body or story["external_id"] == body["external_id"])
                and ("archived" not in body or story["archived"] is body["archived"])
                and low <= _instant(story["updated_at"] or story["created_at"]) <= high
                and made_low <= _instant(story["created_at"]) <= made_high
            ]
        if len(found) > self.max_results:
            if self.post_cap == "error":
                return 400, _max_results_exceeded(), {}
            found = found[: self.max_results]
        return 201, found, {}

    def _member(self) -> dict[str, Any]:
        return {
            "id": "5f1b2c3d-0000-4000-8000-000000000001",
            "is_owner": False,
            "mention_name": "bugbot",
            "name": "Bug Bot",
            "role": "observer" if self.read_only else "member",
            "workspace2": {
                "id": self.workspace_id,
                "created_at": iso(BASE),
                "default_workflow_id": WORKFLOW_ID,
                "estimate_scale": [0, 1, 2, 4, 8],
                "name": "Acme",
                "url_slug": "acme",
                "utc_offset": self.member_utc_offset or self.utc_offset,
            },
            "organization2": {"id": "5f1b2c3d-0000-4000-8000-0000000000bb"},
        }

    def _search(self, query: dict[str, list[str]]) -> tuple[int, Any, dict]:
        text = query.get("query", [""])[0]
        if not text:
            return 400, {"message": "query is required"}, {}
        page_size = int(query.get("page_size", ["25"])[0])
        if not 1 <= page_size <= 250:
            return 400, {"message": "page_size must be between 1 and 250"}, {}
        offset = int(base64.urlsafe_b64decode(query["next"][0]).decode()) if "next" in query else 0
        if offset >= self.max_results:
            return 400, _max_results_exceeded(), {}
        matches = self._matches(text)
        page = matches[offset : offset + page_size]
        following = offset + page_size
        next_path = None
        if following < len(matches):
            token = base64.urlsafe_b64encode(str(following).encode()).decode()
            params = {"query": text, "page_size": page_size, "next": token}
            if "detail" in query:
                params["detail"] = query["detail"][0]
            next_path = f"{API}/search/stories?{urlencode(params)}"
        return 200, {"data": page, "next": next_path, "total": len(matches)}, {}


# SearchStories' properties (additionalProperties: false): anything else is a schema mismatch
SEARCH_STORIES_KEYS = frozenset(
    {
        "archived",
        "owner_id",
        "story_type",
        "epic_ids",
        "project_ids",
        "updated_at_end",
        "completed_at_end",
        "workflow_state_types",
        "deadline_end",
        "created_at_start",
        "epic_id",
        "label_name",
        "requested_by_id",
        "iteration_id",
        "label_ids",
        "group_id",
        "workflow_state_id",
        "iteration_ids",
        "created_at_end",
        "deadline_start",
        "group_ids",
        "owner_ids",
        "external_id",
        "includes_description",
        "estimate",
        "project_id",
        "completed_at_start",
        "updated_at_start",
    }
)


@functools.lru_cache(maxsize=1 << 18)
def _day_of(moment: str, shift: timedelta) -> str:
    """The day of a story's timestamp in a zone (cached: a search reads every story's day)."""
    when = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return (when.astimezone(UTC) + shift).date().isoformat()


def _instant(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def _max_results_exceeded() -> dict[str, Any]:
    """MaxSearchResultsExceededError, as the swagger defines it."""
    return {
        "error": "maximum-results-exceeded",
        "message": "A maximum of 1000 search results are supported.",
        "maximum-results": 1000,
    }


_CREATE_KEEPS = (
    "name",
    "description",
    "story_type",
    "workflow_state_id",
    "external_links",
    "external_id",
    "group_id",
    "project_id",
    "requested_by_id",
    "owner_ids",
)
_CREATE_PARAMS = {
    "name": str,
    "description": str,
    "story_type": str,
    "workflow_state_id": int,
    "external_links": list,
    "external_id": str,
    "custom_fields": list,
    "group_id": (str, type(None)),
    "project_id": (int, type(None)),
    "requested_by_id": str,
    "owner_ids": list,
    "labels": list,
    "follower_ids": list,
    "epic_id": (int, type(None)),
    "iteration_id": (int, type(None)),
    "estimate": (int, type(None)),
    "deadline": (str, type(None)),
}


def _schema_problem(body: Any) -> dict[str, str] | None:
    """What of CreateStoryParams a body breaks (Shortcut answers 400 "Schema mismatch"), or None."""
    if not isinstance(body, dict):
        return {"body": "not a JSON object"}
    problems = {}
    for key, value in body.items():
        kind = _CREATE_PARAMS.get(key)
        if kind is None:
            problems[key] = "disallowed-key"
        elif not isinstance(value, kind) or isinstance(value, bool):
            problems[key] = "wrong type"
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 512:
        problems["name"] = "missing-required-key" if name is None else "length 1-512"
    if body.get("story_type") not in (None, "feature", "chore", "bug"):
        problems["story_type"] = "not one of feature, chore, bug"
    for link in body.get("external_links") or []:
        if not isinstance(link, str) or not link.startswith(("http://", "https://")):
            problems["external_links"] = "each an http(s) URL"
    for entry in body.get("custom_fields") or []:
        if (
            not isinstance(entry, dict)
            or set(entry) - {"field_id", "value_id", "value"}
            or not {"field_id", "value_id"} <= set(entry)
        ):
            problems["custom_fields"] = "each {field_id, value_id}"
    if len(body.get("description") or "") > 100_000 or len(body.get("external_id") or "") > 1024:
        problems["length"] = "description at most 100000, external_id at most 1024 characters"
    return problems or None


def _full_story(story: dict[str, Any]) -> dict[str, Any]:
    """GET /stories/{id} answers a Story: the slim fields plus what search's slim detail leaves out."""
    full = dict(story)
    full.update(
        description="",
        branches=[],
        comments=[],
        commits=[],
        files=[],
        linked_files=[],
        pull_requests=[],
        tasks=[],
    )
    for name in ("comment_ids", "file_ids", "linked_file_ids", "task_ids", "num_tasks_completed"):
        full.pop(name, None)
    return full


def shortcut_pull(fake: FakeShortcut, query: str = "type:bug", clock: Any = None, **http_options: Any) -> Any:
    """A ShortcutPull with a real requests Session against the fake, with quick 5xx backoff."""
    from adapters.shortcut_http import ShortcutHttp
    from adapters.shortcut_pull import ShortcutPull

    http_options.setdefault("backoff_factor", 0.01)
    http_options.setdefault("timeout", 10)
    pull = ShortcutPull(ShortcutHttp(fake.api_url, fake.token, **http_options), query)
    if clock is not None:
        pull.clock = clock
    return pull
