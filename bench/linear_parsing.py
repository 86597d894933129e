"""Benchmark: what hostile outside text costs the regexes that read it, against a plain paste.

Each 40,000-char input of tests/support/adversarial.py (runs of each markup character, alternations,
tag-dense text, long `ticketId=` runs, unclosed `<` spans) goes through what the bot does with a new report's
text: the tag parser, the title extractor, the mrkdwn escaper (of the text as read) and the suggestion
matcher's words; log redaction is timed on its own. Best of --runs, in CPU milliseconds; `ratio` is the
report pipeline's time over the plain paste's.

Run: .venv/bin/python -m bench.linear_parsing [--size 40000] [--runs 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from adapters.slack_message import parse_tags, plain_from_slack, title_of
from bot.logging_setup import redact
from bot.slack.mrkdwn import escape
from bot.suggest.matching import words_of
from tests.support.adversarial import SIZE, adversarial_inputs, plain_paste

STEPS: dict[str, Callable[[str], object]] = {
    "tags": parse_tags,
    "title": title_of,
    "escape": lambda text: escape(plain_from_slack(text)),
    "words": words_of,
}


def best_ms(work: Callable[[], object], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.thread_time()
        work()
        best = min(best, time.thread_time() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    inputs = {"plain paste": plain_paste(args.size), **adversarial_inputs(args.size)}
    rows = []
    for name, text in inputs.items():
        steps = {
            step: best_ms(lambda read=read, text=text: read(text), args.runs) for step, read in STEPS.items()
        }
        rows.append((name, steps, sum(steps.values()), best_ms(lambda text=text: redact(text), args.runs)))
    plain_total = rows[0][2]
    print(f"{'input (' + format(args.size, ',') + ' chars)':<28}" + "".join(f"{s:>8}" for s in STEPS)
          + f"{'report':>9}{'ratio':>7}{'redact':>8}")  # fmt: skip
    for name, steps, total, redacted in rows:
        cells = "".join(f"{ms:8.2f}" for ms in steps.values())
        print(f"{name:<28}{cells}{total:9.2f}{total / plain_total:7.2f}{redacted:8.2f}")
    worst = max(rows[1:], key=lambda row: row[2])
    print(f"worst: {worst[0]}, x{worst[2] / plain_total:.2f} the plain paste")


if __name__ == "__main__":
    main()
