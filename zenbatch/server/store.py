"""Server state in SQLite: files, batches and one row per finished request line.

A finished line's result, its effect on the batch's counts and usage, and the fact that it ran
are written in one transaction, so a restart sees each line either done (and never runs it
again) or not done (and runs it once). WAL journaling keeps readers (the API) and the writer
(the batch worker) out of each other's way; ``synchronous=NORMAL`` survives a killed process.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from zenbatch.server.objects import (
    TERMINAL,
    BatchErrorItem,
    BatchErrors,
    BatchObject,
    BatchUsage,
    FileObject,
    InputTokensDetails,
    OutputTokensDetails,
    RequestCounts,
)

DB_NAME = "zenbatch-server.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    filename TEXT NOT NULL,
    purpose TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    expiry_given INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    endpoint TEXT NOT NULL,
    model TEXT,
    input_file_id TEXT NOT NULL,
    completion_window TEXT NOT NULL,
    status TEXT NOT NULL,
    output_file_id TEXT,
    error_file_id TEXT,
    created_at INTEGER NOT NULL,
    deadline REAL NOT NULL,
    expires_at INTEGER,
    in_progress_at INTEGER, finalizing_at INTEGER, completed_at INTEGER, failed_at INTEGER,
    expired_at INTEGER, cancelling_at INTEGER, cancelled_at INTEGER,
    total INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    errors TEXT,
    metadata TEXT,
    output_expires_after INTEGER,
    prompt_tokens INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS results (
    batch_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    custom_id TEXT NOT NULL,
    ok INTEGER NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (batch_id, line)
);
"""
_TIMESTAMPS = (
    "in_progress_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at",
)  # fmt: skip


_ALIVE = "deleted = 0 AND (expires_at IS NULL OR expires_at > ?)"  # a file that is neither deleted nor expired


def now() -> int:
    return int(time.time())


@dataclass(frozen=True)
class LineResult:
    """One request line that ran: its output or error record, and the tokens it used."""

    line: int
    custom_id: str
    ok: bool
    record: bytes
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class BatchRow:
    """What the worker needs of a batch to run it."""

    id: str
    status: str
    endpoint: str
    input_file_id: str
    deadline: float
    total: int


class Store:
    """SQLite state under ``data_dir``; one connection per thread."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.files_dir = self.data_dir / "files"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / DB_NAME
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._conn().executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Columns added since a data dir was created (its files count as uploaded without expiry)."""
        added = {"files": ("expiry_given", "INTEGER NOT NULL DEFAULT 0"), "batches": ("prompt_tokens", "INTEGER NOT NULL DEFAULT 0")}
        for table, (column, kind) in added.items():
            if column not in {row["name"] for row in self._conn().execute(f"PRAGMA table_info({table})")}:
                self._write(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    def _write(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        conn = self._conn()
        with conn:
            return conn.execute(sql, params).rowcount

    # files ---------------------------------------------------------------------------------

    def insert_file(self, file: FileObject, *, expiry_given: bool = True) -> None:
        self._write(
            "INSERT INTO files (id, bytes, created_at, expires_at, filename, purpose, expiry_given) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (file.id, file.bytes, file.created_at, file.expires_at, file.filename, file.purpose, int(expiry_given)),
        )

    def get_file(self, file_id: str) -> FileObject | None:
        row = self._conn().execute(f"SELECT * FROM files WHERE id = ? AND {_ALIVE}", (file_id, now())).fetchone()
        return _file(row) if row else None

    def count_uploads(self, *, expiry_given: bool | None = None) -> int:
        """Uploaded (purpose ``batch``) files that exist now: neither deleted nor expired."""
        sql = f"SELECT COUNT(*) FROM files WHERE purpose = 'batch' AND {_ALIVE}"
        params: list[Any] = [now()]
        if expiry_given is not None:
            sql += " AND expiry_given = ?"
            params.append(int(expiry_given))
        return int(self._conn().execute(sql, params).fetchone()[0])

    def list_files(self, *, purpose: str | None, limit: int, after: str | None, ascending: bool) -> tuple[list[FileObject], bool]:
        where: list[str] = [_ALIVE]
        params: list[Any] = [now()]
        if purpose:
            where.append("purpose = ?")
            params.append(purpose)
        rows = self._page("files", where, params, limit, after, ascending)
        return [_file(r) for r in rows[:limit]], len(rows) > limit

    def delete_file(self, file_id: str) -> bool:
        return self._write("UPDATE files SET deleted = 1 WHERE id = ? AND deleted = 0", (file_id,)) > 0

    def file_in_use(self, file_id: str) -> bool:
        marks = ",".join("?" * len(TERMINAL))
        row = (
            self._conn()
            .execute(
                f"SELECT 1 FROM batches WHERE input_file_id = ? AND status NOT IN ({marks}) LIMIT 1",
                (file_id, *TERMINAL),
            )
            .fetchone()
        )
        return row is not None

    def _page(self, table: str, where: list[str], params: list[Any], limit: int, after: str | None, ascending: bool) -> list[sqlite3.Row]:
        if after:
            cursor_row = self._conn().execute(f"SELECT seq FROM {table} WHERE id = ?", (after,)).fetchone()
            if cursor_row is not None:
                where.append("seq > ?" if ascending else "seq < ?")
                params.append(cursor_row["seq"])
        order = "ASC" if ascending else "DESC"
        sql = f"SELECT * FROM {table} WHERE {' AND '.join(where) or '1'} ORDER BY seq {order} LIMIT ?"
        return self._conn().execute(sql, (*params, limit + 1)).fetchall()

    # batches -------------------------------------------------------------------------------

    def insert_batch(self, batch: BatchObject, deadline: float, output_expires_after: int | None) -> None:
        self._write(
            "INSERT INTO batches (id, endpoint, input_file_id, completion_window, status, created_at, deadline,"
            " expires_at, metadata, output_expires_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                batch.id, batch.endpoint, batch.input_file_id, batch.completion_window, batch.status,
                batch.created_at, deadline, batch.expires_at,
                orjson.dumps(batch.metadata).decode() if batch.metadata is not None else None,
                output_expires_after,
            ),
        )  # fmt: skip

    def get_batch(self, batch_id: str) -> BatchObject | None:
        row = self._conn().execute("SELECT * FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return _batch(row) if row else None

    def batch_row(self, batch_id: str) -> BatchRow | None:
        row = self._conn().execute("SELECT id, status, endpoint, input_file_id, deadline, total FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return BatchRow(**dict(row)) if row else None

    def output_ttl(self, batch_id: str) -> int | None:
        row = self._conn().execute("SELECT output_expires_after FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return row[0] if row else None

    def list_batches(self, *, limit: int, after: str | None) -> tuple[list[BatchObject], bool]:
        rows = self._page("batches", [], [], limit, after, ascending=False)
        return [_batch(r) for r in rows[:limit]], len(rows) > limit

    def status_of(self, batch_id: str) -> str | None:
        row = self._conn().execute("SELECT status FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return row["status"] if row else None

    def open_batches(self) -> list[tuple[str, str]]:
        """Batches not yet in a terminal state, oldest first: ``(id, status)``."""
        marks = ",".join("?" * len(TERMINAL))
        rows = self._conn().execute(f"SELECT id, status FROM batches WHERE status NOT IN ({marks}) ORDER BY seq", tuple(TERMINAL)).fetchall()
        return [(r["id"], r["status"]) for r in rows]

    def transition(self, batch_id: str, to: str, *, from_: tuple[str, ...], stamp: str | None = None, **fields: Any) -> bool:
        """Move a batch to ``to`` only if it is in one of ``from_``; True when it moved.

        Conditional so a cancel arriving at the same moment is never overwritten.
        """
        if stamp is not None and stamp not in _TIMESTAMPS:
            raise ValueError(f"not a timestamp column: {stamp}")
        sets = {"status": to, **fields}
        if stamp:
            sets[stamp] = now()
        assignments = ", ".join(f"{key} = :{key}" for key in sets)
        marks = ", ".join(f":from{i}" for i in range(len(from_)))
        params = {**sets, "id": batch_id, **{f"from{i}": s for i, s in enumerate(from_)}}
        return self._write(f"UPDATE batches SET {assignments} WHERE id = :id AND status IN ({marks})", params) > 0

    def set_validated(self, batch_id: str, *, total: int, model: str | None, prompt_tokens: int = 0) -> bool:
        return self.transition(batch_id, "in_progress", from_=("validating",), stamp="in_progress_at", total=total,
                               model=model, prompt_tokens=prompt_tokens)  # fmt: skip

    def enqueued_tokens(self, model: str) -> int:
        """Prompt tokens of the model's batches that passed validation and are not terminal yet."""
        row = self._conn().execute(
            "SELECT COALESCE(SUM(prompt_tokens), 0) FROM batches WHERE model = ?"
            " AND status IN ('in_progress', 'finalizing', 'cancelling')", (model,),
        ).fetchone()  # fmt: skip
        return int(row[0])

    def set_failed(self, batch_id: str, errors: list[BatchErrorItem]) -> bool:
        payload = orjson.dumps([e.model_dump() for e in errors]).decode()
        return self.transition(batch_id, "failed", from_=("validating",), stamp="failed_at", errors=payload)

    def finish(
        self,
        batch_id: str,
        status: str,
        stamp: str,
        *,
        from_: tuple[str, ...],
        files: list[FileObject],
        output_file_id: str | None,
        error_file_id: str | None,
        not_run: int,
    ) -> bool:
        """Register the output files and end the batch, in one transaction."""
        conn = self._conn()
        with conn:
            for file in files:
                conn.execute(
                    "INSERT OR IGNORE INTO files (id, bytes, created_at, expires_at, filename, purpose) VALUES (?, ?, ?, ?, ?, ?)",
                    (file.id, file.bytes, file.created_at, file.expires_at, file.filename, file.purpose),
                )
            marks = ",".join("?" * len(from_))
            moved = conn.execute(
                f"UPDATE batches SET status = ?, {stamp} = ?, output_file_id = ?, error_file_id = ?, failed = failed + ?"
                f" WHERE id = ? AND status IN ({marks})",
                (status, now(), output_file_id, error_file_id, not_run, batch_id, *from_),
            ).rowcount
            if not moved:
                conn.rollback()
            return moved > 0

    # results -------------------------------------------------------------------------------

    def record_results(self, batch_id: str, results: list[LineResult]) -> None:
        """Store finished lines and add them to the batch's counts and usage, atomically."""
        if not results:
            return
        ok = sum(1 for r in results if r.ok)
        conn = self._conn()
        with conn:
            conn.executemany(
                "INSERT INTO results (batch_id, line, custom_id, ok, record) VALUES (?, ?, ?, ?, ?)",
                [(batch_id, r.line, r.custom_id, int(r.ok), r.record) for r in results],
            )
            conn.execute(
                "UPDATE batches SET completed = completed + ?, failed = failed + ?, input_tokens = input_tokens + ?,"
                " cached_tokens = cached_tokens + ?, output_tokens = output_tokens + ?,"
                " reasoning_tokens = reasoning_tokens + ? WHERE id = ?",
                (
                    ok, len(results) - ok, sum(r.input_tokens for r in results), sum(r.cached_tokens for r in results),
                    sum(r.output_tokens for r in results), sum(r.reasoning_tokens for r in results), batch_id,
                ),
            )  # fmt: skip

    def done_lines(self, batch_id: str) -> Iterator[int]:
        cursor = self._conn().execute("SELECT line FROM results WHERE batch_id = ? ORDER BY line", (batch_id,))
        while rows := cursor.fetchmany(4096):
            yield from (r[0] for r in rows)

    def iter_records(self, batch_id: str) -> Iterator[tuple[bool, bytes]]:
        """Finished lines of a batch as ``(ok, record)``, streamed in line order."""
        cursor = self._conn().execute("SELECT ok, record FROM results WHERE batch_id = ? ORDER BY line", (batch_id,))
        while rows := cursor.fetchmany(1024):
            yield from ((bool(r[0]), r[1]) for r in rows)

    def execution_counts(self, *, succeeded_only: bool = False) -> dict[str, int]:
        return read_execution_counts(self.path, succeeded_only=succeeded_only)


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level="DEFERRED", check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def read_execution_counts(db_path: Path, *, succeeded_only: bool = False) -> dict[str, int]:
    """How many times each custom_id ran, read straight from a server's database.

    Works whether the server is running, stopped or was killed. With ``succeeded_only``, only
    answers that succeeded count (what a provider bills), not lines that failed or were refused.
    """
    where = " WHERE ok = 1" if succeeded_only else ""
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        rows = conn.execute(f"SELECT custom_id, COUNT(*) FROM results{where} GROUP BY custom_id").fetchall()
    finally:
        conn.close()
    return {custom_id: count for custom_id, count in rows}


def read_upload_counts(db_path: Path) -> dict[str, int]:
    """How many times each file name was uploaded, deleted and expired files included."""
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        rows = conn.execute("SELECT filename, COUNT(*) FROM files WHERE purpose = 'batch' GROUP BY filename").fetchall()
    finally:
        conn.close()
    return {name: count for name, count in rows}


def _file(row: sqlite3.Row) -> FileObject:
    return FileObject(
        id=row["id"], bytes=row["bytes"], created_at=row["created_at"], expires_at=row["expires_at"],
        filename=row["filename"], purpose=row["purpose"],
    )  # fmt: skip


def _batch(row: sqlite3.Row) -> BatchObject:
    errors = None
    if row["errors"]:
        errors = BatchErrors(data=[BatchErrorItem(**e) for e in orjson.loads(row["errors"])])
    usage = BatchUsage(
        input_tokens=row["input_tokens"],
        input_tokens_details=InputTokensDetails(cached_tokens=row["cached_tokens"]),
        output_tokens=row["output_tokens"],
        output_tokens_details=OutputTokensDetails(reasoning_tokens=row["reasoning_tokens"]),
        total_tokens=row["input_tokens"] + row["output_tokens"],
    )
    return BatchObject(
        id=row["id"], endpoint=row["endpoint"], model=row["model"], errors=errors,
        input_file_id=row["input_file_id"], completion_window=row["completion_window"], status=row["status"],
        output_file_id=row["output_file_id"], error_file_id=row["error_file_id"], created_at=row["created_at"],
        expires_at=row["expires_at"], **{key: row[key] for key in _TIMESTAMPS},
        request_counts=RequestCounts(total=row["total"], completed=row["completed"], failed=row["failed"]),
        usage=usage, metadata=orjson.loads(row["metadata"]) if row["metadata"] else None,
    )  # fmt: skip
