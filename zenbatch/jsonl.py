"""Reading JSONL files a line at a time, the one way every reader in zenbatch does.

A UTF-8 byte-order mark before the first line is dropped (editors on Windows write one, and
Azure refuses a batch file that starts with one with a misleading error). Lines keep their
1-based numbers, blank lines counted, so a message can name the line a user sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

BOM = b"\xef\xbb\xbf"


def numbered_lines(handle: Iterable[bytes], *, blank: bool = False) -> Iterator[tuple[int, bytes]]:
    """``(line number, raw line)`` of a binary file; blank lines are skipped unless ``blank``."""
    for number, raw in enumerate(handle, start=1):
        if number == 1:
            raw = raw.removeprefix(BOM)
        if blank or raw.strip():
            yield number, raw
