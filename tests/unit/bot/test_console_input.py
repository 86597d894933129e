"""Without Slack tokens the bot starts the console only when something can type into it."""

import io
import os

from bot.run import has_console_input


def test_a_pipe_and_a_file_feed_the_console(tmp_path):
    read_end, write_end = os.pipe()
    with os.fdopen(read_end) as piped, os.fdopen(write_end, "w"):
        assert has_console_input(piped)
    script = tmp_path / "lines.txt"
    script.write_text("/bug help\n")
    with script.open() as from_file:
        assert has_console_input(from_file)
    assert has_console_input(io.StringIO("/bug help\n"))  # a caller's own stream (no descriptor)


def test_dev_null_and_a_closed_stdin_do_not():
    with open(os.devnull) as null:
        assert not null.isatty() and not has_console_input(null)
    assert not has_console_input(None)  # Python sets sys.stdin to None when fd 0 was closed
