"""Reading datasets (CSV, Parquet, JSONL) into DataFrames, with errors that name the spot."""

from __future__ import annotations

from pathlib import Path

import orjson
import pandas as pd

from zenbatch.errors import DatasetError

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def read_dataset(path: str | Path) -> pd.DataFrame:
    """Read a dataset file; a UTF-8 byte order mark is accepted, other encodings are refused."""
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DatasetError(f"{path}: unknown dataset format {path.suffix!r}; use .csv, .parquet or .jsonl")
    if not path.is_file():
        raise DatasetError(f"{path}: no such dataset file; check dataset.path (relative to the job config)")
    if kind == "parquet":
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise DatasetError(f"{path}: not a readable Parquet file ({exc})") from exc
    _check_utf8(path)
    if kind == "csv":
        try:
            frame = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
        except pd.errors.ParserError as exc:
            raise DatasetError(
                f"{path}: not a valid CSV file ({str(exc).strip()}); check that line's quotes and number of fields"
            ) from exc
        except pd.errors.EmptyDataError as exc:
            raise DatasetError(f"{path}: the file is empty; write a header line, then one line per row") from exc
        if not isinstance(frame.index, pd.RangeIndex):
            # pandas takes the first column(s) as the index when the rows have more fields than the
            # header, which would silently shift every value into its neighbour's column.
            raise DatasetError(
                f"{path}, line 2: the rows have {frame.index.nlevels} more field(s) than the header line; "
                "remove trailing commas, quote values that hold commas, or name every column in the header"
            )
        return frame
    return _read_jsonl(path)


def _check_utf8(path: Path) -> None:
    line = 1
    with path.open("rb") as handle:
        for raw in handle:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DatasetError(
                    f"{path}, line {line}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                    "re-save the file as UTF-8"
                ) from None
            line += 1


def _read_jsonl(path: Path) -> pd.DataFrame:
    records = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise DatasetError(f"{path}, line {number}: not valid JSON ({exc})") from None
            if not isinstance(record, dict):
                raise DatasetError(f"{path}, line {number}: each line must be a JSON object")
            records.append(record)
    if not records:
        raise DatasetError(f"{path}: the file holds no rows; write one JSON object per line")
    return pd.DataFrame.from_records(records)
