"""`make demo` run as a newcomer would, its console over a pipe: a pull, a report and its suggestion, a
link, a create, a status change reaching the thread, the dashboard's numbers; then exit."""

from __future__ import annotations

import re
import subprocess
import sys
import threading

import pytest

from tests.support.metrics_scrape import scrape
from tests.support.processes import ROOT, child_env, stop_bot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


class Transcript:
    """What the demo printed so far (a thread reads its stdout as it comes)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.text = ""
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._lock:
                self.text += line

    def wait_for(self, pattern: str, after: int = 0, timeout: float = 60) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            with self._lock:
                return re.compile(pattern).search(self.text, after)

        return wait_until(found, timeout=timeout, interval=0.2)


def test_make_demo_shows_the_whole_loop(tmp_path):
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo: \$\(STAMP\)\n\t\$\(PY\) -m tests\.fakes\.demo", makefile, re.MULTILINE)
    demo = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.demo", "--dir", str(tmp_path)],
        cwd=ROOT,
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    out = Transcript(demo)
    assert demo.stdin is not None

    def say(line: str) -> int:
        at = len(out.text)
        demo.stdin.write(line + "\n")
        demo.stdin.flush()
        return at

    try:
        out.wait_for(r"zendesk: fetched 4, inserted 4")  # the pull
        out.wait_for(r"shortcut: fetched 2, inserted 2")
        metrics = out.wait_for(r"curl -s (http://127\.0\.0\.1:\d+/metrics)").group(1)
        out.wait_for(r"Console mode on")
        at = say("Checkout button does nothing on Safari priority=High")
        first = out.wait_for(r"Stored as (SL-[0-9.]+), priority High", at).group(1)
        out.wait_for(r"ZD-101 Checkout button does nothing on Safari \(Zendesk, open\)", at)  # suggested

        at = say(f"/bug link {first} ZD-101")
        out.wait_for(rf"linked {re.escape(first)} -> ZD-101", at)
        out.wait_for(rf"\[status\] {re.escape(first)}: Status of ZD-101", at)

        at = say("Export to CSV hangs on big accounts")
        second = out.wait_for(r"Stored as (SL-[0-9.]+), no priority", at).group(1)
        at = say(f"/bug create shortcut {second}")
        story = out.wait_for(r"(SC-9\d{3})", at).group(1)

        # the pretend agent solves ZD-101; the next pull brings it; the console prints it as a thread post
        out.wait_for(rf"\[status\] {re.escape(first)}: ZD-101 \(Zendesk\) is now done: solved", timeout=90)
        out.wait_for(rf"\[status\] {re.escape(second)}: {story} \(Shortcut\) is now started", timeout=90)

        at = say("/bug stats")
        out.wait_for(r"(\d+) bug record\(s\)", at)
        out.wait_for(r"Slack reports: 2 linked, 0 unlinked", at)
        # the dashboard's numbers: the bot's Prometheus series on the port the banner names
        wait_until(
            lambda: scrape(metrics).get("bugtracker_bugs_by_source", {}).get(("slack",)) == 2, timeout=30
        )
        say("exit")
        assert demo.wait(timeout=30) == 0
    finally:
        if demo.poll() is None:
            stop_bot(demo, timeout=10)
    assert "Traceback" not in out.text, out.text[-3000:]
