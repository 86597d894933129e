"""Every regex that reads outside text runs in linear time: 40,000-char inputs built against
each pattern's weak spot (runs of each markup character, alternations, tag-dense text, long `ticketId=`
runs, unclosed `<` spans) cost about what a 40,000-char plain paste costs, and four times the text costs
about four times the time.

Timings are the best of several runs of CPU time, so a busy machine does not fail them; the patterns they
replace took 18 s (a run of `*` through the tag parser) and 2 s (`<@` repeated, suggestion matcher).

CPU-ratio measurements (about 45 s): marked `perf`, so `make test` leaves them out and `make bench` runs
them (`pytest -m perf`)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import pytest

from adapters.slack_message import parse_tags, plain_from_slack, title_of
from bot.logging_setup import redact
from bot.slack.mrkdwn import escape
from bot.suggest.matching import words_of
from tests.support.adversarial import SIZE, adversarial_inputs, plain_paste

pytestmark = pytest.mark.perf

INPUTS = adversarial_inputs()
READERS: dict[str, Callable[[str], object]] = {
    "tag parser": parse_tags,
    "title extractor": title_of,
    "mrkdwn escaper": lambda text: escape(plain_from_slack(text)),
    "suggestion words": words_of,
    "log redaction": redact,
}


def intake(text: str) -> None:
    """What the bot does with a new report's text: tags, title, the escaped text shown, suggestion words."""
    parse_tags(text)
    title_of(text)
    escape(plain_from_slack(text))
    words_of(text)


def best_seconds(work: Callable[[], object], runs: int = 5) -> float:
    """The least CPU time of `runs` runs: this thread's own time, so other processes on a busy machine
    barely move it (wall time on a shared 2-core box varied 4x from run to run)."""
    best = float("inf")
    gc.collect()
    for _ in range(runs):
        started = time.thread_time()
        work()
        best = min(best, time.thread_time() - started)
    return best


@pytest.mark.parametrize("name", INPUTS)
def test_an_adversarial_message_costs_at_most_three_plain_pastes(name):
    plain = best_seconds(lambda: intake(plain_paste()))
    hostile = best_seconds(lambda: intake(INPUTS[name]))
    assert len(INPUTS[name]) == SIZE
    assert hostile <= 3 * plain + 0.002, f"{name}: {hostile * 1000:.1f} ms vs plain {plain * 1000:.1f} ms"


@pytest.mark.parametrize("reader", READERS)
def test_each_reader_scales_linearly_on_every_adversarial_input(reader):
    read = READERS[reader]
    slow = []
    for name, text in adversarial_inputs(SIZE // 4).items():
        quarter = best_seconds(lambda text=text: read(text))
        whole = best_seconds(lambda name=name: read(INPUTS[name]))
        # linear: x4 for four times the text; quadratic would be x16
        if whole > 8 * quarter + 0.005:
            slow.append(f"{name}: {quarter * 1000:.1f} ms -> {whole * 1000:.1f} ms")
    assert slow == []
