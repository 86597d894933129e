"""What the sync runner tells the rest of the process about the records a pull changed.

The runner knows nothing of Slack: bootstrap hands it a ChangeNotifier (bot/slack/status_board.py's
StatusBoard, or none). `records_changed` is called after a page's records are written and BEFORE its
checkpoint is saved, so a change noted there survives a crash (the notifier keeps it durably);
`pull_finished` once a run ends, when the notifier may announce what it noted
(one message per report thread for the whole pull).
"""

from __future__ import annotations

from typing import Protocol

from storage.model import BugRecord


class ChangeNotifier(Protocol):
    def records_changed(self, records: list[BugRecord]) -> None:
        """Records inserted or updated by a pull (`ticket_id` = where each lives now). Quick and durable."""

    def pull_finished(self, source: str) -> None:
        """The run of `source` ended (done or stopped): announce what was noted."""
