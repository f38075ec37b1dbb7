"""Terminal progress bars for the CLI's long work; plain lines (or nothing) when not a terminal."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from zenbatch.progress import LineProgress, Progress, silent


@contextlib.contextmanager
def terminal_progress(unit: str = "rows", lines_every: float | None = None) -> Iterator[Progress]:
    """A ``Progress`` hook that draws one bar per piece of work on stderr, for the duration.

    Args:
        unit: what the counts are (``rows`` or ``bytes``): bytes are shown as sizes.
        lines_every: when stderr is not a terminal (CI, a log file), a plain line at most this
            often; None says nothing there.
    """
    if not sys.stderr.isatty():
        yield silent if lines_every is None else LineProgress(lambda line: print(line, file=sys.stderr, flush=True), unit, lines_every)
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, TaskID, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bars

    count = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    with Bars(TextColumn("{task.description}"), BarColumn(), count, TimeRemainingColumn(),
              console=Console(stderr=True), transient=True) as bars:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def show(what: str, done: int, total: int | None) -> None:
            if what not in tasks:
                tasks[what] = bars.add_task(what, total=total)
            bars.update(tasks[what], completed=done, total=total)

        yield show
