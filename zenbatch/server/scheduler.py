"""Moves batches through their states: validating -> in_progress -> finalizing -> completed.

One thread watches for open batches (new ones, and those a restart left unfinished) and gives
each its own thread, which validates, runs and finalizes it. All batches share one pool of
``workers`` threads for their lines. Every step starts from the status in SQLite, so a batch
resumes wherever the last process left it.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from zenbatch.server.engines.base import Engine
from zenbatch.server.faults import FaultInjector
from zenbatch.server.finalize import finalize
from zenbatch.server.ids import file_path
from zenbatch.server.objects import TERMINAL, BatchErrorItem
from zenbatch.server.settings import ServerSettings
from zenbatch.server.store import Store
from zenbatch.server.validation import validate_file
from zenbatch.server.worker import LineRunner, RunEnd

log = logging.getLogger("zenbatch.server")
MAX_ACTIVE_BATCHES = 8
IDLE_POLL_SECONDS = 0.5
RETRY_BROKEN_SECONDS = 30.0


class BatchScheduler:
    """Owns the batch threads and the line pool; ``start`` once, ``stop`` once."""

    def __init__(self, settings: ServerSettings, store: Store, engine: Engine):
        self.settings = settings
        self.store = store
        self.engine = engine
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="zenbatch-line")
        self._faults = FaultInjector(settings.faults, self.stopping)
        self._active: dict[str, threading.Thread] = {}
        self._broken: dict[str, float] = {}  # batch id -> when its thread died on an internal error
        self._queue_lock = threading.Lock()
        self._loop = threading.Thread(target=self._watch, name="zenbatch-scheduler", daemon=True)

    def start(self) -> None:
        self._loop.start()

    def wake(self) -> None:
        """A batch was created or cancelled: look now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Stop taking lines, let running lines finish and be recorded, leave the rest for a restart."""
        self.stopping.set()
        self.engine.interrupt()
        self._wake.set()
        if self._loop.is_alive():
            self._loop.join()
        for thread in list(self._active.values()):
            thread.join()
        self._pool.shutdown(wait=True)

    def _watch(self) -> None:
        while not self.stopping.is_set():
            for batch_id in [t for t, thread in self._active.items() if not thread.is_alive()]:
                del self._active[batch_id]
            for batch_id, _status in self.store.open_batches():
                if batch_id in self._active or len(self._active) >= MAX_ACTIVE_BATCHES:
                    continue
                if time.monotonic() - self._broken.get(batch_id, -RETRY_BROKEN_SECONDS) < RETRY_BROKEN_SECONDS:
                    continue
                thread = threading.Thread(target=self._process, args=(batch_id,), name=f"zenbatch-{batch_id}", daemon=True)
                self._active[batch_id] = thread
                thread.start()
            self._wake.wait(IDLE_POLL_SECONDS)
            self._wake.clear()

    def _process(self, batch_id: str) -> None:
        try:
            while not self.stopping.is_set():
                status = self.store.status_of(batch_id)
                if status is None or status in TERMINAL:
                    return
                if not self._step(batch_id, status):
                    return
        except Exception:
            self._broken[batch_id] = time.monotonic()
            log.exception("batch %s stopped on an internal error; retrying it in %.0f s", batch_id, RETRY_BROKEN_SECONDS)

    def _step(self, batch_id: str, status: str) -> bool:
        """Take one batch one state further; False when this thread should let go of it."""
        row = self.store.batch_row(batch_id)
        assert row is not None
        input_path = file_path(self.store.files_dir, row.input_file_id)
        ttl = self.settings.faults.output_files_live or self.store.output_ttl(batch_id)
        if status == "validating":
            return self._validate(batch_id, row.endpoint, input_path)
        if status == "in_progress":
            runner = LineRunner(self.store, self.engine, self._faults, self._pool, self.settings.workers, self.stopping)
            end = runner.run(row, input_path)
            if end is RunEnd.STOPPED:
                return False
            if end is RunEnd.EXPIRED:
                self._finish(batch_id, "expired", "expired_at", ("in_progress",), input_path, "batch_expired", ttl)
            elif end is RunEnd.DONE:
                self.store.transition(batch_id, "finalizing", from_=("in_progress",), stamp="finalizing_at")
            return True
        if status == "finalizing":
            self._finish(batch_id, "completed", "completed_at", ("finalizing",), None, None, ttl)
            return True
        if status == "cancelling":
            # A batch cancelled before validation ended has no lines to account for.
            lines = input_path if row.total > 0 else None
            self._finish(batch_id, "cancelled", "cancelled_at", ("cancelling",), lines, "batch_cancelled", ttl)
            return True
        return False

    def _validate(self, batch_id: str, endpoint: str, input_path: Path) -> bool:
        if self.settings.faults.validate_delay and self.stopping.wait(self.settings.faults.validate_delay):
            return False
        if self.store.status_of(batch_id) != "validating":
            return True
        if not input_path.is_file():
            self.store.set_failed(batch_id, [BatchErrorItem(
                code="invalid_request", message="The input file is gone; upload it again and create a new batch.")])  # fmt: skip
            return True
        limit = self.settings.max_enqueued_tokens
        outcome = validate_file(input_path, endpoint, self.settings.max_requests, count_tokens=limit is not None)
        if outcome.ok:
            with self._queue_lock:  # one batch at a time joins a model's queue
                queued = self.store.enqueued_tokens(outcome.model or "") if limit is not None else 0
                if limit is not None and queued + outcome.prompt_tokens > limit:
                    self.store.set_failed(batch_id, [BatchErrorItem(code="token_limit_exceeded", message=(
                        f"Enqueued token limit reached for {outcome.model} in organization local. Limit: {limit:,} enqueued "
                        f"tokens ({queued:,} queued, this batch {outcome.prompt_tokens:,}). Please try again once some "
                        "in_progress batches have been completed."))])  # fmt: skip
                    log.info("batch %s refused: %s's queue is full", batch_id, outcome.model)
                    return True
                self.store.set_validated(batch_id, total=outcome.total, model=outcome.model, prompt_tokens=outcome.prompt_tokens)
            log.info("batch %s: %d requests valid, in progress", batch_id, outcome.total)
        else:
            errors = outcome.errors
            if outcome.more_errors:
                errors = [*errors, BatchErrorItem(code="invalid_request", message=f"... and {outcome.more_errors} more problems.")]
            self.store.set_failed(batch_id, errors)
            log.info("batch %s failed validation with %d problem(s)", batch_id, len(errors))
        return True

    def _finish(
        self, batch_id: str, status: str, stamp: str, from_: tuple[str, ...], input_path: Path | None, not_run_code: str | None, ttl: int | None
    ) -> None:
        if finalize(self.store, batch_id, status=status, stamp=stamp, from_=from_, input_path=input_path,
                    not_run_code=not_run_code, output_ttl=ttl):  # fmt: skip
            log.info("batch %s %s", batch_id, status)
