"""Step: upload and create the job's batches (idempotently) and record them as ``batch_job``."""

from __future__ import annotations

from typing import Annotated

from zenml import ArtifactConfig, add_tags, log_metadata, step

from zenbatch.zenml_ext.materializers.batch_job import BatchJobMaterializer
from zenbatch.jobs import BatchJob
from zenbatch.lifecycle import submit
from zenbatch.zenml_ext.providers import provider_for
from zenbatch.zenml_ext.registry import is_collected, job_tag, latest_job_version
from zenbatch.zenml_ext.tags import COLLECTED_TAG, OPEN_TAG, ZENBATCH_TAG


@step(enable_cache=False, output_materializers={"batch_job": BatchJobMaterializer})
def submit_batch(plan: BatchJob) -> Annotated[BatchJob, ArtifactConfig(name="batch_job", tags=[ZENBATCH_TAG])]:
    """Submit every shard that is due.

    The same work submitted before continues from its saved state: a collected job is not
    submitted again, and batches already created are reused (a crash between upload, create
    and recording never makes a second batch).
    """
    job = plan.model_copy(deep=True)
    known = latest_job_version(job.job_id)
    if known is not None:
        job = known.load()
        job.model_version = job.model_version or plan.model_version
    if job.collected or (known is not None and is_collected(known)):
        log_metadata({"job_id": job.job_id, "already_collected": True, "submitted": 0, "reused": 0, "deferred": 0})
        add_tags(tags=[job_tag(job.job_id), COLLECTED_TAG], infer_artifact=True, artifact_name="batch_job")
        return job
    report = submit(job, provider_for(job), save=lambda _: None)
    log_metadata({
        "job_id": job.job_id, "already_collected": False, "batch_ids": [s.batch_id for s in job.shards if s.batch_id],
        "submitted": len(report.submitted), "reused": len(report.reused),
        "deferred": len(report.deferred_quota) + len(report.deferred_backoff),
    })  # fmt: skip
    # The loader moves the open tag on; older open versions of this job are retired by it too.
    add_tags(tags=[job_tag(job.job_id), OPEN_TAG], infer_artifact=True, artifact_name="batch_job")
    return job
