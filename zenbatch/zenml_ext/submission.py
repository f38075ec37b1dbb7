"""Submitting a planned job in ZenML: the same work submitted before continues from its saved state.

A job is known by its id (a hash of its work, see ``lifecycle.submit.job_key``). When a state of
it is saved already, that state is what goes on: a collected job is not submitted again, and
batches already created are reused (a crash between upload, create and recording never makes
a second batch, because ``submit`` finds them by their shard's sha256).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from zenbatch.jobs import BatchJob
from zenbatch.lifecycle import submit
from zenbatch.zenml_ext.providers import provider_for
from zenbatch.zenml_ext.registry import is_collected, latest_job_version


class SubmitOutcome(BaseModel):
    """What submitting a plan did (the ``submit_batch`` step's metadata)."""

    job_id: str
    already_collected: bool = False
    batch_ids: list[str] = Field(default_factory=list)
    submitted: int = 0
    reused: int = 0
    deferred: int = 0


def submit_plan(plan: BatchJob) -> tuple[BatchJob, SubmitOutcome]:
    """The job's state after submitting every shard that is due, and what was done."""
    job = plan.model_copy(deep=True)
    known = latest_job_version(job.job_id)
    if known is not None:
        job = known.load()
        job.model_version = job.model_version or plan.model_version
    if job.collected or (known is not None and is_collected(known)):
        return job, SubmitOutcome(job_id=job.job_id, already_collected=True)
    report = submit(job, provider_for(job))
    return job, SubmitOutcome(
        job_id=job.job_id, batch_ids=[s.batch_id for s in job.shards if s.batch_id], submitted=len(report.submitted),
        reused=len(report.reused), deferred=len(report.deferred_quota) + len(report.deferred_backoff),
    )  # fmt: skip
