"""Progress of long work (building requests, downloading results), for whoever watches.

Work that can take minutes takes a ``Progress`` hook and calls it with what it is doing, how
much is done and the total when known. The CLI draws a terminal bar with it; pipeline steps
log a line now and then (:class:`LineProgress`); the default says nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Progress = Callable[[str, int, "int | None"], None]
"""``progress(what, done, total)``: ``what`` names the work (``building requests``,
``downloading batch_x.output.jsonl``); ``done`` and ``total`` count its units; ``total`` may be None."""


def silent(what: str, done: int, total: int | None) -> None:
    """The default: nobody is watching."""


class LineProgress:
    """A line per piece of work when it starts and ends, and at most one every ``every`` seconds.

    Args:
        emit: where the lines go (``logger.info``, ``print``).
        unit: what ``done`` and ``total`` count, for the message (``rows``, ``bytes``).
        every: the least number of seconds between two lines about the same work.
        clock: a monotonic clock (injectable for tests).
    """

    def __init__(self, emit: Callable[[str], None], unit: str, every: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.emit, self.unit, self.every, self.clock = emit, unit, every, clock
        self._last: dict[str, float] = {}

    def __call__(self, what: str, done: int, total: int | None) -> None:
        now = self.clock()
        finished = total is not None and done >= total
        if what in self._last and not finished and now - self._last[what] < self.every:
            return
        self._last[what] = now
        if total:
            self.emit(f"{what}: {done:,} of {total:,} {self.unit} ({100 * done / total:.0f}%)")
        else:
            self.emit(f"{what}: {done:,} {self.unit}")
