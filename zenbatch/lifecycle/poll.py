"""Polling shards and cancelling jobs.

One retrieve per open shard per poll. Statuses are normalised into ShardStatus; a terminal
shard carries a typed reason. A batch that failed validation on the enqueued-token quota is
not an error of the input: the shard goes back to pending with a backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel, Field

from zenbatch.jobs import BatchJob, EndReason, JobShard, Save, ShardStatus, saved_by_caller
from zenbatch.lifecycle.backoff import TOKEN_LIMIT, back_off
from zenbatch.providers.base import BatchInfo, BatchProvider


class PollReport(BaseModel):
    """What one poll saw: shards still open, shards that finished, and the calls it made."""

    open: list[int] = Field(default_factory=list)
    finished: list[int] = Field(default_factory=list)
    requeued: list[int] = Field(default_factory=list)
    retrieves: int = 0
    skipped: bool = False
    completed_requests: int = 0
    failed_requests: int = 0
    total_requests: int = 0


def poll(job: BatchJob, provider: BatchProvider, *, save: Save = saved_by_caller, now: Callable[[], float] = time.time) -> PollReport:
    """Retrieve every open shard once and record what changed; nothing when the job was polled
    less than ``provider.min_poll_seconds`` ago (Azure asks for at most one poll a minute)."""
    report = PollReport()
    if job.open_shards and job.polled_at is not None and now() - job.polled_at < provider.min_poll_seconds:
        report.skipped = True
        report.open = [s.index for s in job.open_shards]
        return report
    if job.open_shards:
        job.polled_at = now()
    for shard in job.open_shards:
        info = provider.retrieve(shard.batch_id or "")
        job.count_call("retrieve")
        report.retrieves += 1
        record(shard, info, now())
        if shard.status == ShardStatus.PENDING:
            report.requeued.append(shard.index)
        elif shard.status.is_terminal():
            report.finished.append(shard.index)
        else:
            report.open.append(shard.index)
        report.completed_requests += shard.request_counts.completed
        report.failed_requests += shard.request_counts.failed
        report.total_requests += shard.request_counts.total
    save(job)
    return report


def record(shard: JobShard, info: BatchInfo, now: float) -> None:
    """Copy a created, found or retrieved batch into its shard; requeue quota refusals.

    A batch found at submission may have finished already (poll never looks at it again), so
    its files are kept here too.
    """
    shard.batch_id = info.id
    shard.input_file_id = info.input_file_id or shard.input_file_id
    shard.status = info.status
    shard.request_counts = info.request_counts
    shard.output_file_id = info.output_file_id
    shard.error_file_id = info.error_file_id
    shard.errors = info.errors
    shard.submitted_at = shard.submitted_at or now
    if info.status == ShardStatus.FAILED and TOKEN_LIMIT in info.error_codes():
        shard.replaced_batch_ids.append(info.id)
        shard.batch_id = None
        shard.status = ShardStatus.PENDING
        shard.errors = []
        back_off(shard, now, f"{TOKEN_LIMIT}: the batch failed validating on a full queue")
        return
    if info.status.is_terminal():
        shard.finished_at = shard.finished_at or now
        shard.ended = EndReason.of(info.status)


def cancel(job: BatchJob, provider: BatchProvider, *, save: Save = saved_by_caller, now: Callable[[], float] = time.time) -> list[int]:
    """Cancel every open shard and drop the pending ones; finished work is kept for collection.

    Returns the indexes of the shards asked to cancel. Poll until they are terminal, then collect.
    """
    job.cancelled = True
    asked = []
    for shard in job.shards:
        if shard.status == ShardStatus.PENDING:
            shard.status = ShardStatus.CANCELLED
            shard.ended = EndReason.CANCELLED_BEFORE_SUBMISSION
            shard.finished_at = now()
        elif shard.status.is_in_progress() and shard.status != ShardStatus.CANCELLING:
            info = provider.cancel(shard.batch_id or "")
            job.count_call("cancel")
            record(shard, info, now())
            asked.append(shard.index)
        save(job)
    return asked
