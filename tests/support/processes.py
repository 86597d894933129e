"""Run the product's entry points (`python -m bot`, `python -m bot.cli`, the `bugtracker` script) as real
processes, the one way every test does it.

A developer's `.env` never reaches a test's child: the child runs in a directory of the test's own (the
entry points read `.env` from the current directory only), and its environment is this process's minus
every product variable, plus what the test sets. Together with the autouse fixture in tests/conftest.py
(which clears the product variables from the test process too), a `.env` or a shell export of
SLACK_BOT_TOKEN / DYNAMODB_TABLE cannot turn a console test into a Slack one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BUGTRACKER = str(Path(sys.executable).with_name("bugtracker"))

# Every variable bot/config.py reads (by prefix), and the AWS endpoint settings boto3 reads itself.
PRODUCT_VARIABLES = (
    "SLACK_",
    "BUG_LINKERS",
    "BUG_READERS",
    "DYNAMODB_",
    "BUGTRACKER_",
    "AWS_ENDPOINT_URL",
    "AWS_MAX_ATTEMPTS",
    "ZENDESK_",
    "ZENPY_",
    "SHORTCUT_",
    "SYNC_",
    "METRICS_",
    "LOG_LEVEL",
    "LOG_WIRE",
)


def is_product_variable(name: str) -> bool:
    return name.startswith(PRODUCT_VARIABLES)


def child_env(base: Mapping[str, str] | None = None, **variables: str) -> dict[str, str]:
    """`base` (default os.environ) without any product variable, plus `variables`; the checkout importable."""
    environ = {k: v for k, v in (os.environ if base is None else base).items() if not is_product_variable(k)}
    environ.update(variables)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), environ.get("PYTHONPATH"))))
    return environ


def command(entry_point: str, *args: str) -> list[str]:
    """`bot` -> python -m bot; `bot.cli` -> python -m bot.cli; `bugtracker` -> the installed script."""
    if entry_point == "bugtracker":
        return [BUGTRACKER, *args]
    return [sys.executable, "-m", entry_point, *args]


def run_entry_point(
    entry_point: str,
    *args: str,
    cwd: Path,
    env: Mapping[str, str],
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run to completion in `cwd` (a directory of the test's own) with exactly `env`; capture both streams."""
    return subprocess.run(
        command(entry_point, *args),
        cwd=cwd,
        env=dict(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_entry_point(
    entry_point: str, *args: str, cwd: Path, env: Mapping[str, str], **popen: Any
) -> subprocess.Popen[str]:
    """Start in `cwd` with exactly `env` (stdout and stderr piped unless `popen` says otherwise)."""
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(command(entry_point, *args), cwd=cwd, env=dict(env), text=True, **popen)


def run_with_terminal_stderr(
    entry_point: str, *args: str, cwd: Path, env: Mapping[str, str], timeout: float = 120
) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal (as a person at a shell sees it) and stdout on a pipe (as
    `| jq` reads it); returns (exit code, stdout, what the terminal showed)."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    leader, follower = pty.openpty()
    # a terminal has a size (a new pseudo-terminal's is 0x0, and a bar sized to it would be empty)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    process = subprocess.Popen(
        command(entry_point, *args), cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=follower
    )
    os.close(follower)
    shown = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: every holder of the terminal's other end has closed it
                    break
                if not chunk:
                    break
                shown += chunk
            elif process.poll() is not None:
                break
        stdout = process.communicate(timeout=max(1.0, deadline - time.monotonic()))[0]
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, stdout.decode(), shown.decode(errors="replace")


def stop_bot(process: subprocess.Popen[str], timeout: float = 20, sig: int | None = None) -> str:
    """Stop a started process as its supervisor would (SIGTERM, or `sig`) and return what it printed; if it
    has not ended within `timeout`, kill it (a test never leaves a process behind) and fail saying so."""
    import signal

    process.send_signal(signal.SIGTERM if sig is None else sig)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"the process did not stop within {timeout} s of the signal; killed") from None
    return output or ""
