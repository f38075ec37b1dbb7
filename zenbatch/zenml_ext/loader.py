"""One loader pass over one job, in ZenML: poll, collect, plan retries, and save what changed.

A pass reads the job's state (small: files are named by digest), polls, downloads only the
result files of shards that finished since, merges them into results parts, and reads only
the input rows of those shards. A job whose shards changed is saved as a new ``batch_job``
version (the registry moves the open tag to it). A job whose every row is final gets its
``batch_results`` version (a manifest of its parts), tagged with the job and linked to the
job's model version.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from zenbatch.blobs import Traffic
from zenbatch.errors import LoaderError, TransientProviderError, ZenbatchError
from zenbatch.jobs import BatchJob
from zenbatch.lifecycle import advance
from zenbatch.progress import LineProgress
from zenbatch.providers.base import BatchProvider
from zenbatch.zenml_ext import alerts
from zenbatch.zenml_ext.input_rows import dataset_rows
from zenbatch.zenml_ext.ledger import ArtifactLedger, save_segment, scope_of
from zenbatch.zenml_ext.providers import provider_for
from zenbatch.zenml_ext.registry import RESULTS_ARTIFACT, job_id_of, job_tag, link_to_job_model, save_job_state
from zenbatch.zenml_ext.tags import ZENBATCH_TAG

logger = logging.getLogger(__name__)


class JobProgress(BaseModel):
    """What one loader pass did with one job."""

    job_id: str
    name: str
    final: bool
    rows: dict[str, int]
    shards: dict[str, int]
    results_version: str | None = None
    job_version: str | None = None
    downloaded_bytes: int = 0
    store_bytes_read: int = 0
    store_bytes_written: int = 0
    files_deleted: int = 0
    warnings: list[str] = Field(default_factory=list)


class LoaderReport(BaseModel):
    """What one loader pass did: the jobs it moved, those still open, those it could not move.

    Attributes:
        jobs: the progress of every job that advanced.
        still_open: jobs not collected yet (including those that could not advance).
        collected: ids of the jobs collected in this pass.
        waiting: job id -> a transient provider error (429, 5xx, unreachable); tried again next run.
        errors: job id -> an error that needs a look (a broken file, an unknown status, a 4xx).
    """

    jobs: list[JobProgress] = Field(default_factory=list)
    still_open: int = 0
    collected: list[str] = Field(default_factory=list)
    waiting: dict[str, str] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict)


def advance_open_jobs(version_ids: list[str]) -> LoaderReport:
    """One pass over the open jobs; a job that cannot advance never holds up the others.

    A transient provider error leaves the job as it was saved and is only reported (the next
    run tries again); any other error of a job is raised once every other job was advanced and
    saved, so the run fails visibly and the schedule is not paused.

    Raises:
        LoaderError: one or more jobs could not advance; their saved state is unchanged.
    """
    report = LoaderReport()
    for version_id in version_ids:
        try:
            progress = advance_job_version(version_id)
        except TransientProviderError as exc:
            job_id = _job_of(version_id)
            report.waiting[job_id] = str(exc)
            logger.warning("job %s waits for the provider: %s", job_id, exc)
            continue
        except ZenbatchError as exc:
            report.errors[_job_of(version_id)] = f"{type(exc).__name__}: {exc}"
            continue
        report.jobs.append(progress)
        if progress.final:
            report.collected.append(progress.job_id)
    report.still_open = len(version_ids) - len(report.collected)
    if report.errors:
        listed = "; ".join(f"job {job_id}: {error}" for job_id, error in report.errors.items())
        raise LoaderError(
            f"{len(report.errors)} of {len(version_ids)} open job(s) could not advance ({listed}). Their saved state is "
            "unchanged and the other jobs were saved; the next loader run tries them again."
        )
    return report


def _job_of(version_id: str) -> str:
    from zenml.client import Client

    return job_id_of(Client().get_artifact_version(UUID(version_id)))


def advance_job_version(version_id: str) -> JobProgress:
    """Poll, collect and resubmit the job saved in ``version_id``; save what changed."""
    from zenml import save_artifact
    from zenml.client import Client

    from zenbatch.zenml_ext.materializers.results import ResultsMaterializer

    job: BatchJob = Client().get_artifact_version(UUID(version_id)).load()
    provider = provider_for(job)
    before = _shape(job, provider)
    blobs = job.blobs
    traffic = blobs.traffic if blobs is not None else Traffic()
    rows = dataset_rows(job.inputs_ref, traffic) if job.inputs_ref else None
    ledger = ArtifactLedger(scope_of(job.provider_config), exclude_job=job.job_id)  # read only if rows wait for another job
    collection = advance(job, provider, inputs=rows, progress=LineProgress(logger.info, "bytes"), ledger=ledger)
    counts = collection.results.summary
    progress = JobProgress(
        job_id=job.job_id, name=job.name, final=collection.final, shards=job.status_counts(),
        rows={k: int(counts[k]) for k in ("rows", "succeeded", "failed", "missing")}, downloaded_bytes=collection.downloaded_bytes,
        files_deleted=len(collection.deleted_files), warnings=collection.expiring,
    )  # fmt: skip
    for warning in collection.expiring:
        logger.warning("job %s: %s", job.name, warning)
    if collection.final:
        saved = save_artifact(
            collection.results, name=RESULTS_ARTIFACT, tags=[ZENBATCH_TAG, job_tag(job.job_id)], materializer=ResultsMaterializer,
            user_metadata={"job_id": job.job_id, "job_name": job.name, "model_version": job.model_version or ""},
        )  # fmt: skip
        link_to_job_model(saved, job)
        progress.results_version = str(saved.id)
        save_segment(job, collection.results)
        alerts.post(alerts.collected(job, counts))
    if collection.final or _shape(job, provider) != before:
        progress.job_version = str(save_job_state(job, collected=collection.final).id)
    progress.store_bytes_read, progress.store_bytes_written = traffic.read, traffic.written
    return progress


def _shape(job: BatchJob, provider: BatchProvider) -> list[Any]:
    """What a saved state must follow: the shards' batches, statuses, collection and deferral, and
    for a provider with a poll floor, when it was polled (so the next pass knows; at most one
    version a floor's length)."""
    shards = [(s.index, s.batch_id, s.status, s.collected, s.output_sha256, s.files_deleted, s.results_expire_at, s.deferred)
              for s in job.shards]  # fmt: skip
    return [*shards, job.polled_at if provider.min_poll_seconds else None, job.cancelled]
