"""Columns of a million rows, each made once: Arrow strings and numpy arrays, without copies
and without a dtype guessed from the values.

An object column holds one reference per row, and a value on every row is one object. Arrow
buffers come from malloc, which hands a freed hash table or builder back to the system at
once; Arrow's default pool keeps such memory, and it stays in the process's RSS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

POOL = pa.system_memory_pool()


def strings(values: Sequence[str] | pd.Series) -> pa.Array | pa.ChunkedArray:
    """Strings (a list, or a Series of str) in Arrow; ArrowInvalid or ArrowTypeError for other values."""
    return pa.array(values, type=pa.large_string(), from_pandas=True, memory_pool=POOL)


def chunks(array: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return array.chunks if isinstance(array, pa.ChunkedArray) else [array]


def all_distinct(array: pa.Array | pa.ChunkedArray) -> bool:
    return len(pc.unique(array, memory_pool=POOL)) == len(array)


def first_seen(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Each value's number: 0 for the first, and the next number for each value not seen before."""
    encoded = pc.dictionary_encode(array, null_encoding="encode", memory_pool=POOL)
    parts = [chunk.indices.to_numpy() for chunk in chunks(encoded)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)


def objects(values: list[Any]) -> np.ndarray:
    """A list as a 1-d object array, a list in it kept as one element."""
    return np.fromiter(values, dtype=object, count=len(values))


def integers(values: list[Any]) -> np.ndarray:
    """Counts as int64, or as numpy makes them when they are not all numbers."""
    try:
        return np.fromiter(values, dtype=np.int64, count=len(values))
    except (TypeError, ValueError, OverflowError):
        return np.asarray(values)


def constant(count: int, value: Any, rows: np.ndarray, values: list[Any]) -> Any:
    """``value`` on every row but ``rows``, which hold ``values``: bool for a bool, nullable Int64 for an int, else objects."""
    if isinstance(value, bool):
        column = np.full(count, value)
        column[rows] = np.asarray(values, dtype=bool)
        return column
    if isinstance(value, int) and not len(rows):
        return pd.array(np.full(count, value, dtype=np.int64), dtype="Int64")
    column = np.empty(count, dtype=object)
    column[:] = value  # np.full would make a new str for every row
    column[rows] = objects(values)
    return pd.array(column, dtype="Int64") if isinstance(value, int) else column


def frame(columns: dict[str, Any]) -> pd.DataFrame:
    """A frame of these arrays and Series as they are."""
    return pd.DataFrame({name: _series(values) for name, values in columns.items()}, copy=False)


def _series(values: Any) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    return pd.Series(values, dtype=values.dtype, copy=False)


def take(column: pd.Series, rows: np.ndarray, fill_value: Any = None) -> Any:
    """The values of ``column`` at ``rows``, NA (or ``fill_value``) where a row is -1."""
    values = column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array
    return pd.api.extensions.take(values, rows, allow_fill=True, fill_value=fill_value)


def objects_at(column: pd.Series, rows: np.ndarray) -> np.ndarray:
    """The values of ``column`` at ``rows`` as objects, None where a row is -1 and for the NA of a typed column."""
    values = column.to_numpy() if column.dtype == object else column.to_numpy(dtype=object, na_value=None)
    taken: np.ndarray = pd.api.extensions.take(values, rows, allow_fill=True)
    taken[rows < 0] = None
    return taken
