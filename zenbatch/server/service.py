"""The server's operations on files and batches, behind the HTTP routes.

Holds the store, the engine and the scheduler; the routes in ``app`` only translate HTTP.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from zenbatch.server.apierror import ApiError, invalid, not_found
from zenbatch.server.engines import make_engine
from zenbatch.server.engines.base import Engine, EngineReply
from zenbatch.server.faults import FaultInjector
from zenbatch.server.ids import file_path, is_batch_id, is_file_id, new_batch_id, new_file_id
from zenbatch.server.objects import TERMINAL, BatchCreate, BatchObject, FileDeleted, FileObject, ListPage
from zenbatch.server.records import answer
from zenbatch.server.scheduler import BatchScheduler
from zenbatch.server.settings import DEFAULT_FILE_SECONDS, ServerSettings
from zenbatch.server.store import Store, now
from zenbatch.server.uploads import Upload

log = logging.getLogger("zenbatch.server")
FILE_EXPIRY_RANGE = (3600, 2_592_000)


class BatchService:
    """Files and batches over one data dir; ``start`` runs the scheduler, ``stop`` ends it cleanly."""

    def __init__(self, settings: ServerSettings, engine: Engine | None = None):
        self.settings = settings
        # The engine first: a missing model fails before anything is written to the data dir.
        self.engine = engine or make_engine(settings)
        self.store = Store(settings.data_dir)
        self.scheduler = BatchScheduler(settings, self.store, self.engine)
        self._started = False
        self._realtime_calls = 0
        self._realtime_lock = threading.Lock()

    def start(self) -> None:
        if not self._started:
            self._started = True
            self.scheduler.start()
            log.info("batch server: engine %s, %d worker(s), data in %s", self.engine.name, self.settings.workers, self.settings.data_dir)

    def stop(self) -> None:
        if self._started:
            self.scheduler.stop()
            self._started = False
        self.engine.close()
        self.store.close()

    # files ---------------------------------------------------------------------------------

    def create_file(self, upload: Upload) -> FileObject:
        try:
            purpose = upload.fields.get("purpose")
            if not purpose:
                raise invalid("Missing required parameter: 'purpose'.", "purpose")
            if purpose != "batch":
                raise invalid(f"Invalid purpose {purpose!r}: this server accepts only purpose 'batch'.", "purpose")
            if upload.path is None or upload.filename is None:
                raise invalid("Missing required parameter: 'file'.", "file")
            if not upload.filename.strip(". "):
                raise invalid(f"Invalid file name {upload.filename!r}: name the file, e.g. requests.jsonl.", "file")
            extension = os.path.splitext(upload.filename)[1]
            if extension and extension.lower() != ".jsonl":  # a name without one (httpx's "upload") is taken
                raise invalid(f"Invalid file format for Batch API. Must be .jsonl (got {upload.filename!r}).", "file", "invalid_file_format")
            created = now()
            lifetime = self._file_lifetime(upload)
            self._check_file_caps(given=lifetime is not None)
            file = FileObject(
                id=new_file_id(), bytes=upload.size, created_at=created, expires_at=created + (lifetime or DEFAULT_FILE_SECONDS),
                filename=os.path.basename(upload.filename), purpose="batch",
            )  # fmt: skip
            os.replace(upload.path, file_path(self.store.files_dir, file.id))
        except ApiError:
            upload.discard()
            raise
        self.store.insert_file(file, expiry_given=lifetime is not None)
        return file

    def _check_file_caps(self, *, given: bool) -> None:
        """Azure's caps on the files a resource holds: 500 without an expiry, 10,000 in all."""
        capped = self.settings.max_files_without_expiry
        if not given and capped is not None and self.store.count_uploads(expiry_given=False) >= capped:
            raise ApiError(400, f"The quota for files without expiry is reached. The maximum is {capped}.", code="quotaExceeded")
        total = self.settings.max_files
        if total is not None and self.store.count_uploads() >= total:
            raise ApiError(400, f"The quota for files is reached. The maximum is {total}.", code="quotaExceeded")

    @staticmethod
    def _file_lifetime(upload: Upload) -> int | None:
        """The seconds ``expires_after`` asks the file to live, or None when it asks nothing."""
        anchor = upload.fields.get("expires_after[anchor]")
        seconds = upload.fields.get("expires_after[seconds]")
        if anchor is None and seconds is None:
            return None
        if anchor != "created_at":
            raise invalid("expires_after[anchor] must be 'created_at'.", "expires_after.anchor")
        low, high = FILE_EXPIRY_RANGE
        if seconds is None or not seconds.isdigit() or not low <= int(seconds) <= high:
            raise invalid(f"expires_after[seconds] must be an integer from {low} to {high}.", "expires_after.seconds")
        return int(seconds)

    def get_file(self, file_id: str) -> FileObject:
        file = self.store.get_file(file_id) if is_file_id(file_id) else None
        if file is None:
            raise not_found("file", file_id)
        return file

    def file_content(self, file_id: str) -> Path:
        self.get_file(file_id)
        path = file_path(self.store.files_dir, file_id)
        if not path.is_file():
            raise not_found("file content", file_id)
        return path

    def list_files(self, *, purpose: str | None, limit: int, order: str, after: str | None) -> ListPage:
        items, has_more = self.store.list_files(purpose=purpose, limit=limit, after=after, ascending=order == "asc")
        return _page(items, has_more)

    def delete_file(self, file_id: str) -> FileDeleted:
        self.get_file(file_id)
        if self.store.file_in_use(file_id):
            raise ApiError(409, f"File {file_id} is the input of a batch still running; cancel the batch or wait for it to end.")
        self.store.delete_file(file_id)
        file_path(self.store.files_dir, file_id).unlink(missing_ok=True)
        return FileDeleted(id=file_id)

    # batches -------------------------------------------------------------------------------

    def create_batch(self, request: BatchCreate) -> BatchObject:
        file = self.store.get_file(request.input_file_id) if is_file_id(request.input_file_id) else None
        if file is None:
            raise not_found("file", request.input_file_id)
        if file.purpose != "batch":
            raise invalid(f"File {file.id} has purpose {file.purpose!r}; a batch's input needs purpose 'batch'.", "input_file_id")
        created = time.time()
        deadline = created + self.settings.completion_window_seconds
        batch = BatchObject(
            id=new_batch_id(), endpoint=request.endpoint, input_file_id=file.id,
            completion_window=request.completion_window, status="validating", created_at=int(created),
            expires_at=int(deadline), metadata=request.metadata,
        )  # fmt: skip
        ttl = request.output_expires_after.seconds if request.output_expires_after else None
        self.store.insert_batch(batch, deadline, ttl)
        self.scheduler.wake()
        return batch

    def get_batch(self, batch_id: str) -> BatchObject:
        batch = self.store.get_batch(batch_id) if is_batch_id(batch_id) else None
        if batch is None:
            raise not_found("batch", batch_id)
        return batch

    def list_batches(self, *, limit: int, after: str | None) -> ListPage:
        items, has_more = self.store.list_batches(limit=limit, after=after)
        return _page(items, has_more)

    def cancel_batch(self, batch_id: str) -> BatchObject:
        batch = self.get_batch(batch_id)
        if batch.status in ("cancelling", "cancelled"):
            return batch
        moved = self.store.transition(batch_id, "cancelling", from_=("validating", "in_progress"), stamp="cancelling_at")
        if not moved:
            status = self.store.status_of(batch_id)
            if status in TERMINAL or status == "finalizing":
                raise ApiError(409, f"Cannot cancel a batch with status '{status}'.", code="batch_not_cancellable")
        self.scheduler.wake()
        return self.get_batch(batch_id)

    # realtime -----------------------------------------------------------------------------

    def answer(self, endpoint: str, body: dict[str, Any], faults: FaultInjector) -> EngineReply:
        """One realtime request, answered by the same engine (and the same line faults) as batch lines."""
        if body.get("stream"):
            raise invalid("This server answers realtime requests whole; remove 'stream': true.", "stream")
        if not isinstance(body.get("model"), str) or not body["model"]:
            raise invalid("Missing required parameter: 'model'.", "model")
        with self._realtime_lock:
            self._realtime_calls += 1
            draw = self._realtime_calls
        return answer(self.engine, faults, endpoint, body, draw=("realtime", str(draw)))  # each call draws afresh, as a retry would

    def execution_counts(self) -> dict[str, int]:
        return self.store.execution_counts()


def _page(items: list[Any], has_more: bool) -> ListPage:
    return ListPage(data=items, has_more=has_more, first_id=items[0].id if items else None, last_id=items[-1].id if items else None)
