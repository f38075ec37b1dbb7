"""Writes a batch's output and error files and ends the batch.

Finished lines stream out of SQLite in line order; when the batch ends early (expired or
cancelled) the input file is streamed again and every line that never ran gets a
``batch_expired`` / ``batch_cancelled`` error line. Files are written under temporary names and
registered in the same transaction that ends the batch, so a crash mid-way just redoes it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from zenbatch.server.ids import file_path, new_file_id
from zenbatch.server.objects import FileObject
from zenbatch.server.records import custom_id_of, not_run_record
from zenbatch.server.store import Store, now
from zenbatch.server.validation import iter_input_lines


class _Output:
    """One output file being written: opened on its first line only."""

    def __init__(self, files_dir: Path, batch_id: str, kind: str):
        self.files_dir = files_dir
        self.batch_id = batch_id
        self.kind = kind
        self.tmp = files_dir / f".{batch_id}_{kind}.part"
        self.handle: BinaryIO | None = None
        self.bytes = 0

    def write(self, record: bytes) -> None:
        if self.handle is None:
            self.handle = open(self.tmp, "wb")
        self.handle.write(record)
        self.handle.write(b"\n")
        self.bytes += len(record) + 1

    def publish(self, created_at: int, expires_at: int | None) -> FileObject | None:
        if self.handle is None:
            return None
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        file = FileObject(
            id=new_file_id(), bytes=self.bytes, created_at=created_at, expires_at=expires_at,
            filename=f"{self.batch_id}_{self.kind}.jsonl", purpose="batch_output",
        )  # fmt: skip
        os.replace(self.tmp, file_path(self.files_dir, file.id))
        return file


def finalize(
    store: Store,
    batch_id: str,
    *,
    status: str,
    stamp: str,
    from_: tuple[str, ...],
    input_path: Path | None,
    not_run_code: str | None,
    output_ttl: int | None,
) -> bool:
    """Write the files and move the batch to its final ``status``; False if its status moved meanwhile."""
    output = _Output(store.files_dir, batch_id, "output")
    errors = _Output(store.files_dir, batch_id, "error")
    for ok, record in store.iter_records(batch_id):
        (output if ok else errors).write(record)
    not_run = 0
    if not_run_code and input_path is not None:
        done = set(store.done_lines(batch_id))
        for number, raw in iter_input_lines(input_path):
            if number not in done:
                errors.write(not_run_record(custom_id_of(raw), not_run_code))
                not_run += 1
    created = now()
    expires = created + output_ttl if output_ttl else None
    output_file, error_file = output.publish(created, expires), errors.publish(created, expires)
    files = [f for f in (output_file, error_file) if f is not None]
    moved = store.finish(
        batch_id, status, stamp, from_=from_, files=files, output_file_id=output_file.id if output_file else None,
        error_file_id=error_file.id if error_file else None, not_run=not_run,
    )  # fmt: skip
    if not moved:
        for file in files:
            file_path(store.files_dir, file.id).unlink(missing_ok=True)
    return moved
