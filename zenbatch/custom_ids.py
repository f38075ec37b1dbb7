"""custom_id: the key that joins each result back to its input row.

From a chosen id column (values percent-encoded to safe characters, so distinct values stay
distinct), or a stable hash of the values the template reads, so the same row gets the same
id in every run. Identical rows get ``-2``, ``-3``... suffixes in row order.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

import pandas as pd

from zenbatch.errors import Problem

SAFE = "-_.:"
MAX_LENGTH = 64
HASH_PREFIX = "row-"
_SAFE_RE = re.compile(r"^[A-Za-z0-9_.:\-%]+$")


def is_safe(custom_id: str) -> bool:
    return bool(_SAFE_RE.match(custom_id)) and len(custom_id) <= MAX_LENGTH


def from_column(values: pd.Series, column: str) -> tuple[list[str], list[Problem]]:
    """custom_ids from an id column; problems for missing, too long or duplicate values."""
    ids: list[str] = []
    problems: list[Problem] = []
    for row, value in enumerate(values.tolist()):
        if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
            problems.append(Problem("the id is empty; give every row an id", "missing_id", row=row, column=column))
            ids.append("")
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        encoded = quote(text, safe=SAFE)
        if not encoded:
            problems.append(Problem("the id is empty; give every row an id", "missing_id", row=row, column=column))
        elif len(encoded) > MAX_LENGTH:
            problems.append(
                Problem(
                    f"the id is {len(encoded)} characters once made safe (limit {MAX_LENGTH}); "
                    "shorten it or leave id_column unset to use a content hash",
                    "id_too_long",
                    row=row,
                    column=column,
                )
            )
        ids.append(encoded)
    problems.extend(duplicates(ids, column))
    return ids, problems


def duplicates(ids: list[str], column: str | None = None) -> list[Problem]:
    """A problem for every row whose custom_id an earlier row already has."""
    first: dict[str, int] = {}
    problems = []
    for row, custom_id in enumerate(ids):
        if not custom_id:
            continue
        seen = first.setdefault(custom_id, row)
        if seen != row:
            problems.append(
                Problem(
                    f"duplicate custom_id (first at row {seen}); ids must be unique",
                    "duplicate_custom_id",
                    row=row,
                    column=column,
                    custom_id=custom_id,
                )
            )
    return problems


def from_content(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """Stable ids from a hash of the named columns' values, unique by occurrence suffix."""
    if not columns:
        raise ValueError("a content hash needs at least one column")
    cols = [[v if type(v) is str else _text(v) for v in frame[c].tolist()] for c in columns]
    rows = cols[0] if len(cols) == 1 else ["\x1f".join(values) for values in zip(*cols)]
    blake2b = hashlib.blake2b
    ids = [HASH_PREFIX + blake2b(v.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest() for v in rows]
    if len(set(ids)) == len(ids):
        return ids
    seen: dict[str, int] = {}
    for position, custom_id in enumerate(ids):
        count = seen.get(custom_id, 0) + 1
        seen[custom_id] = count
        if count > 1:
            ids[position] = f"{custom_id}-{count}"
    return ids


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "\x00<NA>"
    return value if isinstance(value, str) else str(value)
