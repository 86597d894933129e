"""The console's terminal side: what a line typed there means, answers rendered for a terminal (no mrkdwn),
and reading lines with editing and history.

A line is a bug report, as in the bug channel, unless it is one of the console's commands: `help`, `exit`,
`quit`, or any line starting with `/` (`/bug …`, `/help`, `/quit`, `/exit`; an unknown one gets "did you
mean" and is never stored as a report).
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.grammar import did_you_mean
from bot.slack.mrkdwn import printable

EXIT_WORDS = ("exit", "quit", "/exit", "/quit")
HELP_WORDS = ("help", "/help")
SLASH_COMMANDS = ("/bug", "/help", "/quit", "/exit")
HISTORY_FILE = Path("~/.bugtracker_history")
HISTORY_LENGTH = 1000

CONSOLE_HELP = """\
A line is a bug report, as if posted in the bug channel (tags: ticketId=ZD-123 priority=High).
Commands:
  /bug VERB …   the same verbs as Slack's /bug and the bugtracker command (below)
  help          this help (also /help)
  exit, quit    leave (also /exit, /quit, Ctrl-D); Ctrl-C leaves at once
{usage}"""


@dataclass(frozen=True)
class Line:
    kind: str  # report, bug (a /bug command), help, exit, unknown
    text: str


def classify(raw: str) -> Line:
    """What a typed line is (see the module's docstring)."""
    text = raw.strip()
    word = text.split(maxsplit=1)[0].lower() if text else ""
    if word in EXIT_WORDS and text.lower() == word:
        return Line("exit", text)
    if word in HELP_WORDS and text.lower() == word:
        return Line("help", text)
    if word == "/bug":
        return Line("bug", text)
    if word.startswith("/"):
        hint = did_you_mean(word, SLASH_COMMANDS)
        shown = printable(word)[:40]
        said = f"unknown command {shown}; nothing was stored.{hint} Type help for the commands."
        return Line("unknown", said)
    return Line("report", text)


# The bot's own marks: links, *bold*, _italic_, `code`. Each pattern's runs are of characters that cannot
# close it, so matching is linear in the text's length.
_LINK = re.compile(r"<(https?://[^|<>\s]+)\|([^<>]*)>|<(https?://[^|<>\s]+)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]*)`")


def _link(match: re.Match[str]) -> str:
    url, label, bare = match.group(1), match.group(2), match.group(3)
    if bare:
        return bare
    return f"{label} ({url})" if label and label != url else url


def terminal_text(mrkdwn: str) -> str:
    """Slack mrkdwn as a terminal shows it: `<url|label>` -> `label (url)`, marks dropped, entities
    unescaped, control characters dropped (printable)."""
    text = _LINK.sub(_link, mrkdwn)
    text = _CODE.sub(r"\1", _BOLD.sub(r"\1", _ITALIC.sub(r"\1", text)))
    return printable(html.unescape(text))


class LineReader:
    """Lines from `stdin`. On a terminal (the process's own stdin): GNU readline's editing, history kept in
    ~/.bugtracker_history, and no length limit (the terminal's own line discipline cuts a paste at 4,095
    characters; readline reads the keys itself, so a long paste stays whole). Elsewhere (a pipe, a file):
    plain lines."""

    def __init__(self, stdin: TextIO, stdout: TextIO, prompt: str = "> ") -> None:
        self.stdin, self.stdout, self.prompt = stdin, stdout, prompt
        self.interactive = stdin.isatty()
        self._readline = None
        if self.interactive and stdin is sys.stdin and stdout is sys.stdout:
            try:
                import readline
            except ImportError:  # a Python built without it: plain lines
                pass
            else:
                self._readline = readline
                readline.set_history_length(HISTORY_LENGTH)
                try:
                    readline.read_history_file(HISTORY_FILE.expanduser())
                except OSError:  # none yet, or not readable: a fresh history
                    pass

    def read(self) -> str | None:
        """The next line without its newline; None at the end (Ctrl-D, end of the pipe)."""
        if self._readline is not None:
            try:
                return input(self.prompt)
            except EOFError:
                print(file=self.stdout, flush=True)
                return None
        if self.interactive:
            print(self.prompt, end="", file=self.stdout, flush=True)
        line = self.stdin.readline()
        return line.rstrip("\n") if line else None

    def close(self) -> None:
        if self._readline is not None:
            try:
                self._readline.write_history_file(HISTORY_FILE.expanduser())
            except OSError:  # a read-only home: the history is this session's only
                pass
