"""The one grammar of `/bug` (Slack, the console) and `bugtracker` (the shell): the verbs, the list filters,
"did you mean".

A verb is named here once, with the words it takes; bot/slack/slash.py and bot/cli each give it a handler
(tests/unit/bot/test_grammar.py checks that both know every verb marked for them). Filters are written the
same way on both sides, as words (`list state open source zendesk`) or as options (`--state open`); a value
runs to the next filter word, so `state In Progress` needs no quotes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storage.bounds import clip
from storage.errors import BugTrackerError

SLACK = "slack"
CLI = "cli"
BOTH = frozenset({SLACK, CLI})


class GrammarError(BugTrackerError):
    """The words do not fit the grammar: an unknown verb or filter, a filter without its value."""


@dataclass(frozen=True)
class Verb:
    name: str
    words: str  # what follows the verb, as both sides take it
    summary: str
    where: frozenset[str] = BOTH  # `/bug` (slack, console), `bugtracker` (cli), or both


VERBS: tuple[Verb, ...] = (
    Verb("show", "ID [deleted] [public]", "every record under a ticket (ZD-123, SC-45, SL-<ts>)"),
    Verb("list", "[priority P] [state S] [source S] [since DATE] [until DATE]", "bugs, newest first"),
    Verb("unlinked", "", "Slack reports not linked to a ticket yet"),
    Verb("link", "SOURCE TARGET", "move SOURCE's records under TARGET"),
    Verb("unlink", "ID", "undo a link"),
    Verb("create", "shortcut|zendesk SL-…", "create a Shortcut story or Zendesk ticket from a report"),
    Verb("delete", "SL-…", "remove a Slack report (its author or a linker)"),
    Verb("top", "[N]", "open bugs ranked by impact: reports, tickets and people behind each"),
    Verb("stats", "", "counts by priority, state and source"),
    Verb("help", "[VERB]", "this list, or one verb's words"),
    Verb("init", "", "create the local store", frozenset({CLI})),
    Verb("migrate", "", "bring a store to the current schema", frozenset({CLI})),
    Verb("recount", "", "count every record again (counters and impact)", frozenset({CLI})),
    Verb("sync", "", "pull Zendesk and Shortcut now", frozenset({CLI})),
    Verb("recheck", "", "re-read stored tickets from their systems", frozenset({CLI})),
    Verb("metrics", "", "serve the Prometheus metrics", frozenset({CLI})),
    Verb("bot", "", "run the Slack bot, or the console", frozenset({CLI})),
    Verb("completion", "bash|zsh", "print a shell completion script", frozenset({CLI})),
)

# `list` filters: the store's three kinds, then the created-date range
FILTER_KINDS = ("priority", "state", "source")
FILTER_WORDS = (*FILTER_KINDS, "since", "until")
# a state Slack reports show on their cards; `state reported` lists them
REPORTED = "reported"


def verbs(where: str) -> tuple[Verb, ...]:
    return tuple(verb for verb in VERBS if where in verb.where)


def names(where: str) -> tuple[str, ...]:
    return tuple(verb.name for verb in verbs(where))


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """` (did you mean `show`?)` for a near miss, else ""; the word is outside text, bounded."""
    close = difflib.get_close_matches(word.lower()[:40], list(known), n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else ""


def unknown_verb(word: str, where: str) -> GrammarError:
    return GrammarError(f"I do not know `{clip(word, 40)}`.{did_you_mean(word, names(where))}")


def usage(where: str, prefix: str) -> str:
    """One line a verb: `/bug show ID [deleted] [public]` — every record under a ticket."""
    return "\n".join(
        f"`{prefix} {verb.name}{' ' + verb.words if verb.words else ''}` — {verb.summary}"
        for verb in verbs(where)
    )


def parse_filters(words: Sequence[str]) -> dict[str, str]:
    """`priority High state In Progress` or `--priority High --state=open`: {filter: value}.

    A value runs to the next filter word; each filter at most once; anything before the first filter word,
    or a filter with no value, is a GrammarError naming the filters (and the closest one)."""
    found: dict[str, list[str]] = {}
    current: str | None = None
    for raw in words:
        word = raw
        value_inline = None
        if word.startswith("--"):
            word, _, value_inline = word[2:].partition("=")
        name = word.lower()
        if name in FILTER_WORDS:
            if name in found:
                raise GrammarError(f"`{name}` is given twice; give each filter once")
            found[name] = [value_inline] if value_inline else []
            current = name
            continue
        if current is None:
            hint = did_you_mean(word.lstrip("-"), FILTER_WORDS)
            raise GrammarError(f"cannot list by '{clip(raw, 40)}'; list by {', '.join(FILTER_WORDS)}.{hint}")
        found[current].append(raw)
    for name, value in found.items():
        if not value:
            raise GrammarError(f"`{name}` needs a value, e.g. `{_EXAMPLES[name]}`")
    return {name: " ".join(value) for name, value in found.items()}


_EXAMPLES = {
    "priority": "priority High",
    "state": "state open",
    "source": "source zendesk",
    "since": "since 2026-11-01",
    "until": "until 2026-11-30",
}


# `show`'s words beyond the id: `deleted` (also written as the CLI's option, --include-deleted) and, in Slack,
# `public`
SHOW_WORDS = {"deleted": "deleted", "--include-deleted": "deleted", "public": "public"}


def split_paging(words: Sequence[str]) -> tuple[list[str], str | None]:
    """`… next CURSOR` (as a page's answer says), or `--cursor CURSOR` / `--cursor=CURSOR`, at the end:
    (the other words, the cursor). A cursor is opaque (base64 with `-` and `_`): kept exactly as given."""
    words = list(words)
    if words and words[-1].startswith("--cursor="):
        return words[:-1], words[-1].partition("=")[2].strip("`") or None
    if len(words) >= 2 and words[-2].strip("`*_.,;:").lower() in ("next", "--cursor"):
        return words[:-2], words[-1].strip("`")
    return words, None
