"""slack_sdk's Socket Mode client with a close that always ends (bot/slack/socket_mode.py builds Bolt's
handler on it).

`SocketModeClient.close()` can wait for good: it joins the session thread, which loops until its
connection state says `terminated`; a reconnect racing the close (`connect()` installs a fresh, unterminated
state) or a session stuck mid-read keeps it looping, and the message workers' pool waits for every queued
event (python-slack-sdk #1873, #1874, #1962). Here, subclassed rather than patched: once closed, a reconnect
does nothing and a session that connected meanwhile is terminated at once; the loops are told to stop first
and joined within CLOSE_SECONDS; events queued but not started are dropped (they were never acknowledged, so
Slack delivers them again to the next connection, and the sweep reads the channel history anyway).
"""

from __future__ import annotations

import logging
import time

from slack_sdk.socket_mode.builtin import SocketModeClient

log = logging.getLogger(__name__)

CLOSE_SECONDS = 3.0  # the whole close; bot/run.py's shutdown deadline bounds the process beyond it


class StoppableSocketModeClient(SocketModeClient):
    def connect(self) -> None:
        if self.closed:
            return
        super().connect()
        if self.closed:  # closed while connecting: this session's state is the fresh one close() never saw
            self.current_session_state.terminated = True
            self.disconnect()

    def send_message(self, message: str) -> None:
        if self.closed:  # an ack after close: unsent, so Slack delivers the event again on the next one
            log.debug("Socket Mode: closed; not sending")
            return
        super().send_message(message)

    def connect_to_new_endpoint(self, force: bool = False) -> None:
        if self.closed:  # the monitor or on_close reconnecting after close(): nothing to reconnect
            return
        super().connect_to_new_endpoint(force)

    def close(self) -> None:
        """Stop receiving within CLOSE_SECONDS, whatever the session threads are doing."""
        self.closed = True
        self.auto_reconnect_enabled = False
        self.current_session_state.terminated = True
        # the processor first: it hands queued messages to the workers, which must not be shut down under it
        runners = (self.message_processor, self.current_session_runner, self.current_app_monitor)
        for runner in runners:  # each loop ends after its current turn
            runner.event.set()
        self.message_queue.put(None)  # wakes the processor from its wait on the queue (None: nothing to do)
        try:
            self.disconnect()
        except Exception:  # a half-open socket: closing is all that is left to do
            log.debug("Socket Mode: disconnect failed while closing", exc_info=True)
        deadline = time.monotonic() + CLOSE_SECONDS
        for runner in runners:
            thread = runner.thread
            if thread is not None and thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        self.message_workers.shutdown(wait=False, cancel_futures=True)
        stuck = [r.thread.name for r in runners if r.thread is not None and r.thread.is_alive()]
        if stuck:  # daemon threads: they do not keep the process alive
            log.warning("Socket Mode: %d thread(s) still running after close; leaving them", len(stuck))
