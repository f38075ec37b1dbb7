"""Runs one batch's request lines with bounded concurrency, streaming its input file.

At most ``2 x workers`` lines are in flight and at most ``FLUSH_LINES`` finished lines wait to
be written, so memory stays flat whatever the batch size. Lines already recorded (a restart in
the middle of a batch) are skipped. Between lines the runner watches for the deadline, a cancel
and a server stop; in-flight lines always finish and are kept.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from enum import Enum
from pathlib import Path
from threading import Event

from zenbatch.server.apierror import error_body
from zenbatch.server.engines.base import Engine, EngineReply, EngineStopped
from zenbatch.server.faults import FaultInjector
from zenbatch.server.records import custom_id_of, response_record, run_line
from zenbatch.server.store import BatchRow, LineResult, Store
from zenbatch.server.validation import iter_input_lines
from zenbatch.templates import canonical_endpoint

log = logging.getLogger("zenbatch.server")
FLUSH_LINES = 500
HOLD_POLL_SECONDS = 0.05
FLUSH_SECONDS = 0.1


class RunEnd(Enum):
    """Why a runner stopped taking lines."""

    DONE = "done"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    STOPPED = "stopped"


class LineRunner:
    """Feeds a batch's pending lines to a shared thread pool and records what comes back."""

    def __init__(self, store: Store, engine: Engine, faults: FaultInjector, pool: ThreadPoolExecutor, workers: int, stopping: Event):
        self.store = store
        self.engine = engine
        self.faults = faults
        self.pool = pool
        self.window = max(2, workers * 2)
        self.stopping = stopping

    def run(self, batch: BatchRow, input_path: Path) -> RunEnd:
        endpoint = canonical_endpoint(batch.endpoint)
        done = set(self.store.done_lines(batch.id))
        started, hold = len(done), self.faults.settings.hold_at_line
        in_flight: dict[Future[LineResult], tuple[int, bytes]] = {}
        pending: list[LineResult] = []
        last_check = time.monotonic()
        end = RunEnd.DONE

        def collect(block: bool) -> None:
            finished, _ = wait(list(in_flight), timeout=None if block else 0, return_when=FIRST_COMPLETED)
            for future in finished:
                number, raw = in_flight.pop(future)
                result = self._result(future, number, raw)
                if result is not None:
                    pending.append(result)

        for number, raw in iter_input_lines(input_path):
            if number in done:
                continue
            if hold is not None and started >= hold:
                while in_flight:
                    collect(block=True)
                end = self._held(batch, pending)
                break
            # Stop and deadline are cheap to check, so every line looks; a cancel needs SQLite,
            # so it is looked for when results are flushed.
            end = self._interruption(batch, check_cancel=False)
            now = time.monotonic()
            if end is RunEnd.DONE and (now - last_check >= FLUSH_SECONDS or len(pending) >= FLUSH_LINES):
                last_check = now
                self.store.record_results(batch.id, pending)
                pending.clear()
                end = self._interruption(batch)
            if end is not RunEnd.DONE:
                break
            while len(in_flight) >= self.window:
                collect(block=True)
            in_flight[self.pool.submit(run_line, self.engine, self.faults, batch.id, endpoint, number, raw)] = (number, raw)
            started += 1
        while in_flight:
            collect(block=True)
        self.store.record_results(batch.id, pending)
        if end is RunEnd.DONE:
            # The last lines may have run past a cancel or a stop: look once more.
            end = self._interruption(batch, finished=True)
        return end

    def _held(self, batch: BatchRow, pending: list[LineResult]) -> RunEnd:
        """The ``hold_at_line`` fault: the lines run so far are recorded, and no other starts until the batch ends otherwise."""
        self.store.record_results(batch.id, pending)
        pending.clear()
        while (end := self._interruption(batch)) is RunEnd.DONE:
            self.stopping.wait(HOLD_POLL_SECONDS)
        return end

    def _interruption(self, batch: BatchRow, *, finished: bool = False, check_cancel: bool = True) -> RunEnd:
        if check_cancel and self.store.status_of(batch.id) == "cancelling":
            return RunEnd.CANCELLED
        if self.stopping.is_set():
            return RunEnd.STOPPED
        if finished:
            return RunEnd.DONE
        if time.time() >= batch.deadline:
            return RunEnd.EXPIRED
        return RunEnd.DONE

    def _result(self, future: Future[LineResult], number: int, raw: bytes) -> LineResult | None:
        try:
            return future.result()
        except EngineStopped:
            return None  # not done: it runs again after a restart
        except Exception as exc:
            log.exception("line %d failed in the %s engine", number, self.engine.name)
            custom_id = custom_id_of(raw)
            reply = EngineReply(500, error_body(f"Internal error while running this request: {type(exc).__name__}.", "server_error", "server_error"))
            return LineResult(line=number, custom_id=custom_id, ok=False, record=response_record(custom_id, reply))
