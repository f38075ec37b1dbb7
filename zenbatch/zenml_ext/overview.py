"""What the CLI shows about jobs: their saved state, and live progress from the provider."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from zenbatch.jobs import BatchJob
from zenbatch.lifecycle import poll
from zenbatch.providers.base import BatchProvider
from zenbatch.zenml_ext.providers import provider_for
from zenbatch.zenml_ext.registry import JOB_ARTIFACT, RESULTS_ARTIFACT, is_collected, job_id_of, newest_of_job, versions_tagged
from zenbatch.zenml_ext.tags import ZENBATCH_TAG


class JobOverview(BaseModel):
    """One job as the registry knows it (from artifact metadata; nothing is downloaded)."""

    job_id: str
    name: str
    state: str  # open or collected
    provider: str = ""
    model: str = ""
    requests: int = 0
    shards: dict[str, int] = Field(default_factory=dict)
    batch_ids: list[str] = Field(default_factory=list)
    deferred: dict[str, str] = Field(default_factory=dict)  # shard -> why it waits, and until when
    running_hours: float = 0.0  # how long its batches have run, when saved (open jobs)
    estimated_batch_cost: float = 0.0
    estimated_realtime_cost: float = 0.0
    results: dict[str, Any] = Field(default_factory=dict)
    job_version: str = ""
    results_version: str = ""
    created: str = ""


def batch_ids_of(meta: dict[str, Any]) -> list[str]:
    """The batch ids in a ``batch_job`` version's metadata (a list; older versions joined them with ", ")."""
    ids = meta.get("batch_ids") or []
    return [str(b) for b in ids] if isinstance(ids, list) else [b for b in str(ids).split(", ") if b]


def list_jobs(limit: int = 50) -> list[JobOverview]:
    """The newest state of each job, newest job first."""
    seen: dict[str, JobOverview] = {}
    for version in versions_tagged(ZENBATCH_TAG, name=JOB_ARTIFACT):
        job_id = job_id_of(version)
        if job_id in seen:
            continue
        meta: dict[str, Any] = dict(version.run_metadata)
        overview = JobOverview(
            job_id=job_id, name=str(meta.get("job_name") or version.name), job_version=str(version.version),
            state="collected" if is_collected(version) else "open", provider=str(meta.get("provider", "")),
            model=str(meta.get("model", "")), requests=int(meta.get("requests", 0)),
            shards=dict(meta.get("shard_statuses") or {}),
            batch_ids=batch_ids_of(meta), running_hours=float(meta.get("running_hours") or 0.0),
            deferred={str(k): str(v) for k, v in (meta.get("deferred") or {}).items()},
            estimated_batch_cost=float(meta.get("estimated_batch_cost", 0.0)),
            estimated_realtime_cost=float(meta.get("estimated_realtime_cost", 0.0)),
            created=version.created.isoformat(timespec="seconds"),
        )  # fmt: skip
        results = newest_of_job(RESULTS_ARTIFACT, job_id) if overview.state == "collected" else None
        if results is not None:
            overview.results = {k: results.run_metadata.get(k) for k in ("rows", "succeeded", "failed", "missing", "cost_usd")}
            overview.results_version = str(results.version)
        seen[job_id] = overview
        if len(seen) >= limit:
            break
    return list(seen.values())


def load_job(job_id: str) -> BatchJob:
    """The newest saved state of a job (its files are fetched into the local work folder when needed)."""
    from zenbatch.errors import ConfigError

    version = newest_of_job(JOB_ARTIFACT, job_id)
    if version is None:
        raise ConfigError(f"no job {job_id!r}: `zenbatch status` lists the jobs")
    job: BatchJob = version.load()
    return job


class LiveProgress(BaseModel):
    """Request counts of a job's batches, as the provider reports them now."""

    job_id: str
    name: str
    completed: int
    failed: int
    total: int
    open_shards: int


def live_progress(job: BatchJob, provider: BatchProvider | None = None) -> LiveProgress:
    """Retrieve each open shard once (read only: the saved state is not changed)."""
    working = job.model_copy(deep=True)
    poll(working, provider or provider_for(working))
    first = [s for s in working.shards if s.attempt == 1]
    return LiveProgress(
        job_id=job.job_id, name=job.name, open_shards=len(working.open_shards),
        completed=sum(s.request_counts.completed for s in first),
        failed=sum(s.request_counts.failed for s in first),
        total=sum(s.request_counts.total or s.requests for s in first),
    )  # fmt: skip
