"""Console transport (like Hubot's shell adapter): a line is a message posted in the bug channel, a line
starting with `/bug` is the command (bot/slack/terminal.py says which lines are commands). The same intake
and command services as Slack, on the same store; answers rendered for a terminal.
"""

from __future__ import annotations

import getpass
import time
from typing import TextIO

from bot.metrics.registry import EVENTS_HANDLED
from bot.slack.blocks import build_intake_reply
from bot.slack.intake import Intake
from bot.slack.listeners.commands import linked_tickets
from bot.slack.slash import USAGE, dispatch
from bot.slack.status_board import StatusBoard
from bot.slack.suggestion_blocks import suggestion_text
from bot.slack.terminal import CONSOLE_HELP, LineReader, classify, terminal_text
from bot.suggest.service import Suggester
from bot.tickets.upstreams import Upstreams
from storage.store import BugStore

CONSOLE_CHANNEL = "CCONSOLE"
BANNER = (
    "Console mode on {store}.\n"
    "Type a bug report as you would post it in the bug channel (tags: ticketId=ZD-123 priority=High),\n"
    "or a command: help, /bug list, /bug show ID. exit, quit or Ctrl-D leaves. To use Slack instead, set\n"
    "SLACK_BOT_TOKEN, SLACK_APP_TOKEN and SLACK_CHANNEL_ID (README: 'Create the Slack app')."
)


INTERRUPTED = 130  # the exit code of a program ended by Ctrl-C
STATUS_WAIT_SECONDS = 5.0  # the console waits this long at most for status lines before reading on


class Console:
    def __init__(
        self,
        store: BugStore,
        intake: Intake,
        user: str | None = None,
        suggester: Suggester | None = None,
        board: StatusBoard | None = None,
        upstreams: Upstreams | None = None,
    ) -> None:
        self.store = store
        self.upstreams = upstreams  # `/bug create` creates there; `/bug link` checks unseen tickets there
        self.suggester = suggester
        self.board = board  # told of tag links, as in Slack (run_console tells it of /bug link / unlink)
        self.user = user or f"console:{getpass.getuser()}"
        self.intake = intake  # a typed line is a message in the bug channel: stored as Slack's are
        self._last_ts = 0.0

    def _next_ts(self) -> str:
        """A Slack-like ts (seconds.micro), strictly increasing so two quick lines never collide."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def handle(self, line: str) -> str | None:
        """The answer to one typed line (None: nothing to say). `exit` is the loop's business."""
        typed = classify(line)
        if not typed.text or typed.kind == "exit":
            return None
        if typed.kind == "help":
            return CONSOLE_HELP.format(usage=terminal_text(USAGE))
        if typed.kind == "unknown":
            return terminal_text(typed.text)
        line = typed.text
        if typed.kind == "bug":
            EVENTS_HANDLED.labels("command").inc()
            reply = dispatch(self.store, line, self.user, upstreams=self.upstreams)
            return terminal_text(reply.text)  # run_console tells the board
        message = {"type": "message", "user": self.user, "text": line, "ts": self._next_ts()}
        result = self.intake.ingest_message(message, CONSOLE_CHANNEL)
        EVENTS_HANDLED.labels(result.kind).inc()
        if self.board is not None and result.ticket_id and result.ticket_id != result.home_id:
            self.board.ticket_changed(result.ticket_id)  # a tag linked it: its card, as in Slack
        answer = f"bot (in thread): {terminal_text(build_intake_reply(result, can_reply=False).text)}"
        if self.suggester is not None and result.ticket_id == result.home_id:
            suggestions = self.suggester.suggest_for_id(result.home_id)
            if suggestions:  # the buttons of Slack, as the commands to type
                answer += "\n" + terminal_text(suggestion_text(result.home_id, suggestions))
        return answer


def run_console(
    console: Console,
    stdin: TextIO,
    stdout: TextIO,
    store_description: str = "",
    board: StatusBoard | None = None,
) -> int:
    """Read lines until Ctrl-D or /quit (exit 0); Ctrl-C leaves quietly with exit 130 (128 + SIGINT), as a
    shell's own programs do, never with a traceback. `board`: the running status board (its transport
    prints to `stdout`), told of links typed here."""
    try:
        return _serve_lines(console, stdin, stdout, store_description, board)
    except KeyboardInterrupt:
        if stdin.isatty():
            print(file=stdout, flush=True)  # end the prompt's line, so the shell's prompt starts clean
        return INTERRUPTED


def _serve_lines(
    console: Console, stdin: TextIO, stdout: TextIO, store_description: str, board: StatusBoard | None
) -> int:
    store = console.store
    print(BANNER.format(store=store_description or store.description), file=stdout, flush=True)
    if board is not None:
        board.wait_idle(STATUS_WAIT_SECONDS)  # what changed while the console was not running, first
    reader = LineReader(stdin, stdout)
    try:
        return _read_lines(console, reader, stdout, store, board)
    finally:
        reader.close()


def _read_lines(
    console: Console, reader: LineReader, stdout: TextIO, store: BugStore, board: StatusBoard | None
) -> int:
    while True:
        line = reader.read()
        if line is None or classify(line).kind == "exit":
            return 0
        answer = console.handle(line)
        if answer:
            print(answer, file=stdout, flush=True)
        if board is not None:
            command = line.strip()
            typed = command.removeprefix("/bug").strip() if command.startswith("/bug") else ""
            for ticket_id in linked_tickets(store, typed) + linked_tickets(store, typed, created=True):
                board.ticket_changed(ticket_id)  # a link typed here: its reports' status, after the answer
            board.wait_idle(STATUS_WAIT_SECONDS)
