"""Progress on stderr for the long one-shot commands (stats --recount, migrate, sync): stdout keeps the answer
alone, so `--json` stays pure JSON and `| head` reads only the answer.

The bar (tqdm) shows only when stderr is a terminal; step lines ("recounting the counters") are printed
either way, as log lines are, so a cron job's log still says what happened.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from tqdm import tqdm


class Progress:
    """`line(text)`: a step, on stderr. `advance(n)`: n more records done; a bar opens on the first one and
    closes at the next step line (one bar per pass over the records)."""

    def __init__(self, unit: str = " records", total: int | None = None) -> None:
        self.unit = unit
        self.total = total  # a hint (the kept counts); the bar grows past it if the store holds more
        self._bar: tqdm[NoReturn] | None = None

    def line(self, text: str) -> None:
        self.close()
        print(text, file=sys.stderr, flush=True)

    def advance(self, count: int = 1) -> None:
        if self._bar is None:
            self._bar = bar(self.unit, self.total)
        self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def bar(unit: str = " records", total: int | None = None, desc: str | None = None) -> tqdm[NoReturn]:
    """A tqdm bar on stderr; disable=None: none when stderr is not a terminal (cron, CI logs, a pipe)."""
    from tqdm import tqdm

    return tqdm(desc=desc, total=total, unit=unit, disable=None, file=sys.stderr, dynamic_ncols=True)
