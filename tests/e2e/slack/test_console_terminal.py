"""The console at a real (pseudo-)terminal: a paste longer than the terminal's 4,095-character line limit
is stored whole, with its trailing tags; exit leaves."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

import pytest

from storage.sqlite import SqliteStore
from tests.support.processes import child_env, command

pytestmark = pytest.mark.slow


def _read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return wanted in seen


def test_a_long_paste_is_stored_whole_with_its_tags(tmp_path):
    db_path = tmp_path / "bugs.db"
    leader, follower = pty.openpty()
    env = child_env(BUGTRACKER_DB=str(db_path), HOME=str(tmp_path), TERM="dumb")
    process = subprocess.Popen(
        command("bot"), cwd=tmp_path, env=env, stdin=follower, stdout=follower, stderr=follower
    )
    os.close(follower)
    seen = bytearray()
    try:
        assert _read_until(leader, b"> ", seen), seen.decode(errors="replace")
        words = " ".join(f"word{n}" for n in range(1200))  # about 9,000 characters
        os.write(leader, f"Checkout log {words} priority=High\r".encode())
        assert _read_until(leader, b"Stored as", seen), seen.decode(errors="replace")[-500:]
        os.write(leader, b"exit\r")
        assert process.wait(timeout=30) == 0
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()
    record = SqliteStore(db_path).list_records(source="slack").records[0]
    assert record.priority == "High"  # the trailing tag was read: the paste arrived whole
    typed = len(f"Checkout log {words} priority=High")
    assert (
        record.attributes["text_length"] == typed
    )  # every character arrived (the store keeps a bounded part)
    assert (tmp_path / ".bugtracker_history").exists()  # readline's history, kept for the next session
