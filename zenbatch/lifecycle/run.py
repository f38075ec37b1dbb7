"""Moving a job forward: one step (for a scheduled loader) or a loop until it ends.

The loop measures time with a monotonic clock and ends with a typed reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import Enum

import pandas as pd

from zenbatch.jobs import BatchJob, Save, saved_by_caller
from zenbatch.ledger import Ledger
from zenbatch.lifecycle.collect import Collection, InputRows, collect, plan_retries
from zenbatch.lifecycle.poll import cancel, poll
from zenbatch.lifecycle.submit import submit
from zenbatch.pricing import PriceTable
from zenbatch.progress import Progress, silent
from zenbatch.providers.base import BatchProvider

log = logging.getLogger(__name__)


def too_old(job: BatchJob, provider: BatchProvider) -> bool:
    """The job still runs batches past ``provider.max_age_hours``."""
    limit = provider.max_age_hours
    if not limit:  # None (or 0): no age limit
        return False
    return not job.cancelled and bool(job.open_shards) and job.age_hours() > limit


class Outcome(str, Enum):
    """Why waiting on a job ended."""

    COMPLETED = "completed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"


def advance(
    job: BatchJob,
    provider: BatchProvider,
    *,
    save: Save = saved_by_caller,
    inputs: pd.DataFrame | InputRows | None = None,
    table: PriceTable | None = None,
    progress: Progress = silent,
    ledger: Ledger | None = None,
) -> Collection:
    """Submit what is due, poll what runs, collect what finished, resubmit what may pass.

    A job still running after ``provider.max_age_hours`` is cancelled first (Azure never expires
    a batch): what finished is collected, the rest ends ``batch_cancelled``.
    """
    if too_old(job, provider):
        log.warning("job %s has run %.1f h, past provider.max_age_hours (%g): cancelling it and collecting what finished",
                    job.name, job.age_hours(), provider.max_age_hours)  # fmt: skip
        cancel(job, provider, save=save)
    submit(job, provider, save=save)
    poll(job, provider, save=save)
    collection = collect(job, provider, save=save, inputs=inputs, table=table, progress=progress, ledger=ledger)
    if not collection.final and plan_retries(job, provider, save=save):
        submit(job, provider, save=save)
    return collection


def run_until_done(
    job: BatchJob,
    provider: BatchProvider,
    *,
    save: Save = saved_by_caller,
    inputs: pd.DataFrame | InputRows | None = None,
    table: PriceTable | None = None,
    poll_interval: float = 30.0,
    timeout: float | None = None,
    on_progress: Callable[[BatchJob, Collection], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Outcome, Collection]:
    """Advance the job until every row is final, or until ``timeout`` seconds pass (polling no
    more often than the provider allows)."""
    poll_interval = max(poll_interval, provider.min_poll_seconds)
    started = clock()
    while True:
        collection = advance(job, provider, save=save, inputs=inputs, table=table)
        if on_progress:
            on_progress(job, collection)
        if collection.final:
            return (Outcome.CANCELLED if job.cancelled else Outcome.COMPLETED), collection
        if timeout is not None and clock() - started >= timeout:
            return Outcome.TIMEOUT, collection
        sleep(poll_interval)
