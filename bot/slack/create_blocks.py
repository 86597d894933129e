"""Block Kit for creating a ticket from a report (pure builders): the "Create…" button on the thread answer
and the status card, the prefilled modal (one form per system, switched by a select), its interim views,
and the thread answer once it is made. Outside text (the report, Zendesk / Shortcut names) goes in as
plain_text (`initial_value`, option texts) or escaped mrkdwn."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from adapters.create import TITLE_LIMIT, TicketDraft
from bot.slack.mrkdwn import Block, bold, button, link, mrkdwn_text, plain_text, printable, truncate_plain
from storage.model import PRIORITIES
from storage.systems import NAMES, item_kind
from storage.systems import name as system_name

OPEN_ACTION = "create_open"  # the "Create…" button (thread answer, status card, link modal); value: report id
SYSTEM_ACTION = "create_system"  # the modal's system select: switches the form
MODAL_CALLBACK = "create_ticket_modal"
BLOCK_ID = "create-actions"
TITLE, DESCRIPTION, PRIORITY = "create_title", "create_description", "create_priority"
STATE, TEAM, PROJECT = "create_state", "create_team", "create_project"
TICKET_TYPE, REQUESTER = "create_type", "create_requester"
CONFIRM = "create_confirm"  # a report from a narrower channel: the person confirms it leaves Slack's audience
CONFIRMED = "copy"
DESCRIPTION_SHOWN = 3000  # a plain_text_input holds at most 3,000 characters
OPTIONS_LIMIT = 100  # a static_select lists at most 100 options; an external_select answers 100 at a time
SEARCHED = (STATE, TEAM, PROJECT)  # the selects that turn into a typed search past OPTIONS_LIMIT choices
NO_PRIORITY = "none"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}$")


def _plain(text: object, limit: int = 75) -> dict[str, Any]:
    return plain_text(text, limit)


def create_button_block(report_id: str) -> Block:
    """Under the thread answer of an unlinked report, and on a status card without a ticket."""
    return {
        "type": "actions",
        "block_id": BLOCK_ID,
        "elements": [button(OPEN_ACTION, "Create…", report_id)],
    }


def _modal(title: str, blocks: list[Block], **more: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": _plain(title, 24),
        "close": _plain("Close", 24),
        "blocks": blocks,
        **more,
    }


def message_modal(text: str, title: str = "Create a ticket") -> dict[str, Any]:
    """Preparing, working, a refusal or the outcome: one plain-text line (it may quote upstream text)."""
    return _modal(title, [{"type": "section", "text": _plain(text, 3000)}])


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": _plain(text), "value": value[:150]}


def _select(options: list[dict[str, Any]], initial: str | None) -> dict[str, Any]:
    """Every option offered: a static_select up to OPTIONS_LIMIT of them, else an external_select that
    answers what is typed (the listener's `app.options`, matching_options); the initial option either way."""
    element: dict[str, Any]
    if len(options) > OPTIONS_LIMIT:
        element = {"type": "external_select", "min_query_length": 0}
    else:
        element = {"type": "static_select", "options": options}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def matching_options(choices: list[tuple[str, str]], typed: str | None) -> list[dict[str, Any]]:
    """An external_select's answer: the first OPTIONS_LIMIT choices whose label (or id) holds what was
    typed, any case; nothing typed: the first ones."""
    wanted = " ".join((typed or "").split()).casefold()
    found = []
    for value, label in choices:
        if not wanted or wanted in printable(label).casefold() or wanted == value.casefold():
            found.append(_option(value, label))
            if len(found) == OPTIONS_LIMIT:
                break
    return found


def _input(
    block_id: str, label: str, element: dict[str, Any], optional: bool = False, hint: str = ""
) -> Block:
    # each element's action_id is its block's id: unique within the view, and what read_form looks up
    element = {**element, "action_id": block_id}
    block: Block = {"type": "input", "block_id": block_id, "label": _plain(label), "element": element}
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = _plain(hint, 150)
    return block


@dataclass(frozen=True)
class FormChoices:
    """What the Shortcut form offers (read from the API, cached): (value, label) pairs."""

    states: list[tuple[str, str]] = field(default_factory=list)
    default_state: str | None = None
    teams: list[tuple[str, str]] = field(default_factory=list)
    projects: list[tuple[str, str]] = field(default_factory=list)
    priorities: tuple[str, ...] = PRIORITIES


def create_modal(
    report_id: str,
    channel: str,
    system: str,
    systems: list[str],
    draft: TicketDraft,
    choices: FormChoices | None = None,
    narrower: bool = False,
) -> dict[str, Any]:
    """The prefilled form for `system`; with two systems, a select on top switches the form (views.update).
    `narrower`: the report's channel is private (or shared with another organisation): the form says where
    the words go and asks for a confirmation before it copies them."""
    choices = choices or FormChoices()
    kind = item_kind(system)
    blocks: list[Block] = [
        {
            "type": "section",
            "text": mrkdwn_text(f"From {bold(report_id)}: {link(draft.permalink, 'the report')}"),
        }
    ]
    if narrower:
        name = system_name(system)
        warning = (
            f":warning: This report is from a private channel. Creating copies its title, text, author, link"
            f" and replies into {name}, where everyone who can open {name} can read them."
        )
        blocks.append({"type": "section", "text": mrkdwn_text(warning)})
        box = {"type": "checkboxes", "options": [_option(CONFIRMED, f"Copy it into {name} all the same")]}
        blocks.append(_input(CONFIRM, "Leaves the channel", box))
    if len(systems) > 1:
        options = [_option(name, f"a {system_name(name)} {item_kind(name)}") for name in systems]
        element = {**_select(options, system), "action_id": SYSTEM_ACTION}
        blocks.append({"type": "actions", "block_id": "create_where", "elements": [element]})
    title_input = {"type": "plain_text_input", "max_length": TITLE_LIMIT}
    if draft.title:
        title_input["initial_value"] = truncate_plain(printable(draft.title), TITLE_LIMIT)  # no bidi controls
    blocks.append(_input(TITLE, "Title", title_input))
    description = {
        "type": "plain_text_input",
        "multiline": True,
        "max_length": DESCRIPTION_SHOWN,
    }
    if draft.description:
        description["initial_value"] = truncate_plain(printable(draft.description), DESCRIPTION_SHOWN)
    blocks.append(_input(DESCRIPTION, "Description", description, optional=True))
    priorities = [_option(p, p) for p in choices.priorities] + [_option(NO_PRIORITY, "No priority")]
    blocks.append(_input(PRIORITY, "Priority", _select(priorities, draft.priority or NO_PRIORITY)))
    if system == "shortcut":
        states = [_option(value, label) for value, label in choices.states]
        initial = str(draft.workflow_state_id) if draft.workflow_state_id else choices.default_state
        blocks.append(_input(STATE, "Workflow state", _select(states, initial)))
        if choices.teams:
            teams = [_option(value, label) for value, label in choices.teams]
            blocks.append(_input(TEAM, "Team", _select(teams, draft.group_id), optional=True))
        if choices.projects:
            projects = [_option(value, label) for value, label in choices.projects]
            initial = str(draft.project_id) if draft.project_id else None
            blocks.append(_input(PROJECT, "Project", _select(projects, initial), optional=True))
    else:
        types = [_option("problem", "Problem"), _option("incident", "Incident")]
        radio: dict[str, Any] = {"type": "radio_buttons", "options": types}
        radio["initial_option"] = next(o for o in types if o["value"] == draft.ticket_type)
        blocks.append(_input(TICKET_TYPE, "Type", radio))
        requester = {"type": "plain_text_input", "max_length": 254}
        if draft.requester_email:
            requester["initial_value"] = draft.requester_email
        hint = "Empty: the API user. A customer's email makes the first comment internal."
        blocks.append(_input(REQUESTER, "Requester email", requester, optional=True, hint=hint))
    metadata: dict[str, Any] = {
        "report": report_id,
        "channel": channel,
        "system": system,
        "permalink": draft.permalink,
    }
    if narrower:
        metadata["confirm"] = True
    return _modal(
        f"Create a {kind}",
        blocks,
        callback_id=MODAL_CALLBACK,
        submit=_plain("Create", 24),
        private_metadata=json.dumps(metadata)[:3000],
    )


def _values(view: dict[str, Any]) -> dict[str, Any]:
    """{block id: the element's state} of a view's inputs."""
    values = (view.get("state") or {}).get("values") or {}
    return {block: (actions or {}).get(block) or {} for block, actions in values.items()}


def _text(state: dict[str, Any]) -> str:
    return (state.get("value") or "").strip()


def _picked(state: dict[str, Any]) -> str | None:
    return (state.get("selected_option") or {}).get("value")


def typed_draft(view: dict[str, Any], base: TicketDraft) -> TicketDraft:
    """What the person typed so far (kept when the form switches system); unreadable fields keep `base`'s."""
    state = _values(view)
    title = _text(state.get(TITLE, {})) or base.title
    description = _text(state.get(DESCRIPTION, {})) if DESCRIPTION in state else base.description
    priority = _picked(state.get(PRIORITY, {})) or base.priority or NO_PRIORITY
    return TicketDraft(
        title=title,
        description=description,
        permalink=base.permalink,
        priority=None if priority == NO_PRIORITY else priority,
    )


def read_form(view: dict[str, Any], choices: FormChoices | None) -> tuple[TicketDraft, dict[str, str]]:
    """The submitted form as a draft, and the errors to show under its fields (empty: valid)."""
    metadata = json.loads(view.get("private_metadata") or "{}")
    system, state, errors = metadata.get("system"), _values(view), {}
    title = _text(state.get(TITLE, {}))
    if metadata.get("confirm") and CONFIRMED not in {
        option.get("value") for option in state.get(CONFIRM, {}).get("selected_options") or []
    }:
        errors[CONFIRM] = "This report is from a private channel: tick the box to copy it out of Slack."
    if not title:
        errors[TITLE] = f"Give the {item_kind(system)} a title."
    elif len(title) > TITLE_LIMIT:
        errors[TITLE] = f"At most {TITLE_LIMIT} characters."
    priority = _picked(state.get(PRIORITY, {}))
    priority = None if priority in (None, NO_PRIORITY) else priority
    if priority is not None and choices is not None and priority not in choices.priorities:
        errors[PRIORITY] = f"{NAMES.get(system or '', '')} has no {priority} priority; pick another.".strip()
    draft = TicketDraft(
        title=title,
        description=_text(state.get(DESCRIPTION, {})),
        permalink=metadata.get("permalink"),
        priority=priority,
    )
    if system == "shortcut":
        known = {value for value, _ in (choices.states if choices else [])}
        picked = _picked(state.get(STATE, {}))
        if picked and known and picked not in known:
            errors[STATE] = "That workflow state is gone; pick another."
        team, project = _picked(state.get(TEAM, {})), _picked(state.get(PROJECT, {}))
        draft = replace(
            draft,
            workflow_state_id=int(picked) if picked and picked.isdigit() else None,
            group_id=team,
            project_id=int(project) if project and project.isdigit() else None,
        )
    else:
        ticket_type = _picked(state.get(TICKET_TYPE, {})) or "problem"
        requester = _text(state.get(REQUESTER, {})) or None
        if requester is not None and not _EMAIL.match(requester):
            errors[REQUESTER] = "Give an email address like ann@example.com, or leave it empty."
        draft = replace(draft, ticket_type=ticket_type, requester_email=requester)
    return draft, errors


def created_blocks(ticket_id: str, system: str, url: str | None) -> tuple[str, list[Block]]:
    """The thread answer: (fallback text, blocks). Only our record URL is linked."""
    name = system_name(system)
    text = f"Created {ticket_id} in {name}: {url or ticket_id} — this report now lives under {ticket_id}"
    shown = (
        f"Created {bold(ticket_id)} in {name}: {link(url, ticket_id)}"
        f" — this report now lives under {bold(ticket_id)}"
    )
    return text, [{"type": "section", "text": mrkdwn_text(shown)}]
