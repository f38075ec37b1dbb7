"""Reading datasets (CSV, Parquet, JSONL; local files or object-store URIs) into DataFrames, with errors that name the spot."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import urlparse

import orjson
import pandas as pd

from zenbatch.errors import DatasetError
from zenbatch.jsonl import numbered_lines

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# What reads each object-store scheme (fsspec finds it by the scheme), and the extra that brings it.
STORES = {"s3": ("s3fs", "zenbatch[s3]"), "gs": ("gcsfs", "zenbatch[gcs]"), "gcs": ("gcsfs", "zenbatch[gcs]"),
          "az": ("adlfs", "adlfs"), "abfs": ("adlfs", "adlfs")}  # fmt: skip
Opener = Callable[[], BinaryIO]


def is_uri(path: str | Path) -> bool:
    """Whether ``path`` names an object in a store (``s3://bucket/key``), not a local file."""
    return isinstance(path, str) and "://" in path and urlparse(path).scheme not in ("", "file")


def read_dataset(path: str | Path) -> pd.DataFrame:
    """Read a dataset file or object-store URI; a UTF-8 byte order mark is accepted, other encodings are refused.

    ``s3://``, ``gs://`` and ``az://`` objects are read with fsspec, with the credentials the store's
    library finds (environment, profile, workload identity).
    """
    remote = is_uri(path)
    suffix = PurePosixPath(urlparse(str(path)).path).suffix if remote else Path(path).suffix
    kind = FORMATS.get(suffix.lower())
    if kind is None:
        raise DatasetError(f"{path}: unknown dataset format {suffix!r}; use .csv, .parquet or .jsonl")
    if remote:
        data = _fetch(str(path))
        opener: Opener = partial(io.BytesIO, data)
    else:
        path = Path(path)
        if not path.is_file():
            raise DatasetError(f"{path}: no such dataset file; check dataset.path (relative to the job config)")
        local = path

        def opener() -> BinaryIO:
            return local.open("rb")

    return _parse(kind, opener, str(path))


def fetch_uri(uri: str, target: Path) -> Path:
    """An object-store file copied to ``target`` (e.g. an existing batch file named by URI)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_fetch(uri))
    return target


def _fetch(uri: str) -> bytes:
    scheme = urlparse(uri).scheme
    package, extra = STORES.get(scheme, (scheme, scheme))
    try:
        import fsspec

        with fsspec.open(uri, "rb") as handle:
            return bytes(handle.read())
    except ImportError:
        raise DatasetError(f"{uri}: reading {scheme}:// objects needs {package}: `pip install '{extra}'`") from None
    except ValueError as exc:  # fsspec: "Protocol not known"
        raise DatasetError(f"{uri}: no reader for {scheme}:// ({exc}); use s3://, gs://, az:// or a local file") from None
    except FileNotFoundError:
        raise DatasetError(f"{uri}: no such object; check dataset.path and the bucket") from None
    except PermissionError as exc:
        raise DatasetError(f"{uri}: access denied ({exc}); check the credentials this process runs with") from None
    except OSError as exc:
        raise DatasetError(f"{uri}: the object store could not be read ({type(exc).__name__}: {exc})") from None


def _parse(kind: str, opener: Opener, name: str) -> pd.DataFrame:
    if kind == "parquet":
        try:
            with opener() as handle:
                return pd.read_parquet(handle)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise DatasetError(f"{name}: not a readable Parquet file ({exc})") from exc
    _check_utf8(opener, name)
    if kind == "csv":
        try:
            with opener() as handle:
                frame = pd.read_csv(handle, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
        except pd.errors.ParserError as exc:
            raise DatasetError(f"{name}: not a valid CSV file ({str(exc).strip()}); check that line's quotes and number of fields") from exc
        except pd.errors.EmptyDataError as exc:
            raise DatasetError(f"{name}: the file is empty; write a header line, then one line per row") from exc
        if not isinstance(frame.index, pd.RangeIndex):
            # pandas takes the first column(s) as the index when the rows have more fields than the
            # header, which would silently shift every value into its neighbour's column.
            raise DatasetError(
                f"{name}, line 2: the rows have {frame.index.nlevels} more field(s) than the header line; "
                "remove trailing commas, quote values that hold commas, or name every column in the header"
            )
        return frame
    return _read_jsonl(opener, name)


def _check_utf8(opener: Opener, name: str) -> None:
    line = 1
    with opener() as handle:
        for raw in handle:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DatasetError(
                    f"{name}, line {line}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); re-save the file as UTF-8"
                ) from None
            line += 1


def _read_jsonl(opener: Opener, name: str) -> pd.DataFrame:
    records = []
    with opener() as handle:
        for number, raw in numbered_lines(handle):
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise DatasetError(f"{name}, line {number}: not valid JSON ({exc})") from None
            if not isinstance(record, dict):
                raise DatasetError(f"{name}, line {number}: each line must be a JSON object")
            records.append(record)
    if not records:
        raise DatasetError(f"{name}: the file holds no rows; write one JSON object per line")
    return pd.DataFrame.from_records(records)
