"""The columns of a results table as the downstream steps read them: present, and labels as texts.

Labeling, evaluation and the fine-tuning export all read the same table; each asks here that
the columns it needs exist (naming the absent ones and those there are), and reads labels,
answers or ground truth as stripped texts, whatever type the column holds.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from zenbatch.errors import ConfigError


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise a ConfigError naming each absent column and the columns that exist."""
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ConfigError(
            f"{what}: no column {', '.join(repr(c) for c in absent)} in the table; its columns are {', '.join(map(str, frame.columns))}"
        )


def label_texts(values: pd.Series) -> list[str | None]:
    """Labels as stripped texts, None for an absent or empty value.

    Numbers read from a CSV with gaps come as floats (``4.0``); whole ones become ``"4"`` so
    they meet the labels an answer gives.
    """
    texts: list[str | None] = []
    for value in values.tolist():
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            texts.append(None)
        elif isinstance(value, bool):
            texts.append("true" if value else "false")
        elif isinstance(value, float) and value.is_integer():
            texts.append(str(int(value)))
        else:
            texts.append(str(value).strip() or None)
    return texts
