"""The console's terminal side: which lines are commands, and answers without mrkdwn."""

from __future__ import annotations

import pytest

from bot.slack.terminal import classify, terminal_text


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("help", "help"),
        ("  /HELP ", "help"),
        ("exit", "exit"),
        ("Quit", "exit"),
        ("/quit", "exit"),
        ("/bug show ZD-1", "bug"),
        ("/bugs show ZD-1", "unknown"),
        ("/whatever", "unknown"),
        ("help me, checkout is broken", "report"),
        ("exit button does nothing priority=High", "report"),
        ("Checkout crashes", "report"),
    ],
)
def test_which_lines_are_commands(line, kind):
    assert classify(line).kind == kind


def test_an_unknown_command_says_the_closest():
    assert "Did you mean `/bug`?" in classify("/bugs list").text
    assert "Did you mean" not in classify("/zzzzzzzz").text


@pytest.mark.parametrize(
    ("mrkdwn", "shown"),
    [
        ("Stored as *SL-1.2*, priority *High*.", "Stored as SL-1.2, priority High."),
        ("reply `ticketId=ZD-1` here", "reply ticketId=ZD-1 here"),
        (
            "<https://x.zendesk.com/agent/tickets/5|ZD-5> is _open_",
            "ZD-5 (https://x.zendesk.com/agent/tickets/5) is open",
        ),
        ("<https://example.com>", "https://example.com"),
        ("a &lt;b&gt; &amp; c", "a <b> & c"),
        ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
        ("red \x1b[31mtext", "red [31mtext"),
    ],
)
def test_answers_are_rendered_for_a_terminal(mrkdwn, shown):
    assert terminal_text(mrkdwn) == shown


def test_unclosed_marks_are_left_as_typed():
    # each pattern's runs stop at the character that would close it (linear; bench/linear_parsing.py
    # measures the kind of inputs), so an unclosed mark is simply text
    for text in ("*" + "a" * 5000, "_a" * 2500, "<https://" + "a" * 5000, "`" + "a*" * 2500):
        assert terminal_text(text) == text
