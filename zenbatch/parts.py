"""Results a part at a time: one Parquet file per shard of input rows, and a lazy view over them.

A part holds the final-so-far row of every input row of one first-attempt shard (its *home*),
joined to the input columns, in input order. It is written when that shard is collected and
written again (a new part, the old one kept) when a retry brings new outcomes for some of its
rows. A part's statistics travel in the job state, so counts, cost and a dashboard card need no
row. :class:`ResultsView` reads the parts lazily: a pyarrow dataset, a frame per part, or one
frame for a small job.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from zenbatch.blobs import Blobs, Files, LocalFiles, file_digest
from zenbatch.pricing import JobEstimate
from zenbatch.results import RESULT_COLUMNS, SUCCEEDED, summarize

OUTCOME_COLUMNS = [c for c in RESULT_COLUMNS if c not in ("custom_id", "cost_usd")]  # one answer's columns, its cost aside
JSON_COLUMNS = ("parsed", "embedding")  # shapes vary row to row: kept as JSON text in the file
SAMPLES = 8
_INTEGERS = ("prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens", "status_code", "attempts")
# Result columns keep one type in every part, even where a part has no value in them.
COLUMN_TYPES = {**{c: pa.string() for c in (*RESULT_COLUMNS, "request_key", "batch_id", "reused_from")}, **{c: pa.int64() for c in _INTEGERS},
                "retryable": pa.bool_(), "cost_usd": pa.float64()}  # fmt: skip


class ResultPart(BaseModel):
    """One stored part and what it holds.

    Attributes:
        home: index of the first-attempt shard whose rows it holds.
        sha256: the part file's digest (its name in the blob store).
        batches: batches whose outcomes are merged into it (1, plus one per retry that came back).
        retry_candidates: rows that may still pass on a new attempt (retryable, below max_attempts).
        error_codes: rows by error code, among rows that did not succeed.
    """

    home: int
    sha256: str
    batches: int = 1
    rows: int = 0
    succeeded: int = 0
    failed: int = 0
    missing: int = 0
    retryable: int = 0
    retry_candidates: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    error_codes: dict[str, int] = Field(default_factory=dict)


def part_statistics(frame: pd.DataFrame, candidates: pd.Series) -> dict[str, Any]:
    """The counts a :class:`ResultPart` carries, from its rows and its retry candidates."""
    unsuccessful = frame[frame["status"] != SUCCEEDED]
    codes = unsuccessful["error_code"].fillna(unsuccessful["status"]).value_counts()
    return {**summarize(frame), "retry_candidates": int(candidates.sum()), "error_codes": {str(c): int(n) for c, n in codes.items()}}


def summarize_parts(parts: list[ResultPart]) -> dict[str, Any]:
    """The counts of ``results.summarize`` for a whole job, from its parts' statistics."""
    keys = ("rows", "succeeded", "failed", "missing", "retryable", "prompt_tokens", "completion_tokens")
    return {**{key: sum(getattr(p, key) for p in parts) for key in keys}, "cost_usd": float(sum(p.cost_usd for p in parts))}


def error_codes(parts: list[ResultPart]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for code, n in part.error_codes.items():
            total[code] = total.get(code, 0) + n
    return dict(sorted(total.items(), key=lambda item: -item[1]))


def save_part(frame: pd.DataFrame, path: Path, blobs: Blobs | None, *, home: int, batches: int = 1,
              candidates: pd.Series | None = None) -> ResultPart:  # fmt: skip
    """Write a part to ``path`` (and ``blobs``, when given) and return it with its statistics."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_part(frame, path)
    candidates = candidates if candidates is not None else pd.Series(False, index=frame.index)
    part = ResultPart(home=home, sha256=file_digest(path), batches=batches, **part_statistics(frame, candidates))
    if blobs is not None:
        blobs.put(path, part.sha256, kind="parquet")
    return part


def write_part(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a part's rows as Parquet (JSON columns as text)."""
    pq.write_table(_table(frame), path, compression="zstd")


def _table(frame: pd.DataFrame) -> pa.Table:
    """Rows as an Arrow table: JSON columns as text, result columns with their fixed types."""
    encoded = frame.copy()
    for column in JSON_COLUMNS:
        if column in encoded.columns:
            encoded[column] = encoded[column].map(_dump).astype(object)
    table = pa.Table.from_pandas(encoded, preserve_index=False)
    schema = pa.schema([pa.field(f.name, COLUMN_TYPES.get(f.name, f.type)) for f in table.schema], metadata=table.schema.metadata)
    return table.cast(schema)


def read_part(handle: Any, columns: list[str] | None = None) -> pd.DataFrame:
    """A part's rows (JSON columns parsed back); of ``columns``, those the part has."""
    file = pq.ParquetFile(handle)
    if columns is not None:
        columns = [c for c in columns if c in file.schema_arrow.names]
    frame = file.read(columns=columns).to_pandas()
    for column in JSON_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].map(_load).astype(object)
    return frame


def _dump(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _load(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else orjson.loads(value)


class ResultsView:
    """The ``batch_results`` of one job: its parts, read only when asked.

    Attributes:
        paths: the part files, in input order.
        parts: their statistics (``summary`` and the card come from these, not from rows).
        estimate: the job's estimate at submission, to compare the actual cost with (None: none known).
    """

    def __init__(self, paths: list[str], parts: list[ResultPart], *, files: Files | None = None,
                 arrow_filesystem: Any = None, estimate: JobEstimate | None = None):  # fmt: skip
        self.paths, self.parts = paths, parts
        self.files: Files = files or LocalFiles()
        self.arrow_filesystem = arrow_filesystem
        self.estimate = estimate

    def __len__(self) -> int:
        return sum(p.rows for p in self.parts)

    @property
    def summary(self) -> dict[str, Any]:
        return summarize_parts(self.parts)

    def iter_frames(self, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
        """One frame per part, in input order: at most one part's rows in memory."""
        for path in self.paths:
            with self.files.open(path, "rb") as handle:
                yield read_part(handle, columns)

    def to_pandas(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every row in one frame (for jobs that fit in memory)."""
        frames = list(self.iter_frames(columns))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def dataset(self) -> Any:
        """A pyarrow dataset over the parts (JSON columns stay text), for filtering and scanning at scale."""
        import pyarrow.dataset as ds

        paths = [p.split("://", 1)[-1] for p in self.paths]  # an fsspec-backed file system takes bucket/key
        schemas = [pq.read_schema(path, filesystem=self.arrow_filesystem) for path in paths]  # footers only
        schema = pa.unify_schemas(schemas, promote_options="permissive") if schemas else None  # an input column empty in one part
        return ds.dataset(paths, schema=schema, format="parquet", filesystem=self.arrow_filesystem)

    def samples(self, succeeded: bool) -> pd.DataFrame:
        """Up to a few rows that succeeded (or did not), read from the first part that has any."""
        for path, part in zip(self.paths, self.parts):
            if part.succeeded if succeeded else part.rows - part.succeeded:
                with self.files.open(path, "rb") as handle:
                    frame = read_part(handle)
                mask = frame["status"] == SUCCEEDED
                return frame[mask if succeeded else ~mask].head(SAMPLES)
        return pd.DataFrame()


def frames_of(results: ResultsView | pd.DataFrame, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """A results view a part at a time (or a table saved by an older zenbatch, whole)."""
    if isinstance(results, pd.DataFrame):
        yield results if columns is None else results[[c for c in columns if c in results.columns]]
    else:
        yield from results.iter_frames(columns)


def columns_of(results: ResultsView | pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Only ``columns`` (those present) of every row: what a whole-table computation needs, and no more."""
    frames = list(frames_of(results, columns))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def stored_view(frames: Iterable[pd.DataFrame], folder: Path, blobs: Blobs | None, files: Files | None = None,
                estimate: JobEstimate | None = None) -> ResultsView:  # fmt: skip
    """Each frame saved as a part (``folder/part-NNNNN.parquet`` and ``blobs``), seen as one view."""
    parts = [save_part(frame, folder / f"part-{home:05d}.parquet", blobs, home=home) for home, frame in enumerate(frames)]
    paths = [blobs.path(p.sha256, "parquet") if blobs is not None else str(folder / f"part-{p.home:05d}.parquet") for p in parts]
    return ResultsView(paths, parts, files=files if blobs is None else blobs.files, estimate=estimate)


def write_results(frames: Iterable[pd.DataFrame], out: str | Path) -> int:
    """Write results to ``.parquet``, ``.csv`` or ``.jsonl``, a frame at a time; returns the rows written.

    Parquet and CSV keep parsed answers and embeddings as JSON text (their shapes vary row to row).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows, writer = 0, None
    try:
        for number, frame in enumerate(frames):
            if out.suffix == ".jsonl":
                with out.open("a" if number else "w") as handle:
                    frame.to_json(handle, orient="records", lines=True, force_ascii=False)
            elif out.suffix == ".csv":
                _table(frame).to_pandas().to_csv(out, index=False, mode="a" if number else "w", header=not number)
            else:
                table = _table(frame)
                writer = writer or pq.ParquetWriter(out, table.schema, compression="zstd")
                writer.write_table(table.cast(writer.schema))
            rows += len(frame)
    finally:
        if writer is not None:
            writer.close()
    return rows
