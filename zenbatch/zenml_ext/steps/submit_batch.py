"""Step: upload and create the job's batches (idempotently) and record them as ``batch_job``."""

from __future__ import annotations

from typing import Annotated

from zenml import ArtifactConfig, add_tags, log_metadata, step

from zenbatch.jobs import BatchJob
from zenbatch.zenml_ext.materializers.batch_job import BatchJobMaterializer
from zenbatch.zenml_ext.registry import job_tag
from zenbatch.zenml_ext.submission import submit_plan
from zenbatch.zenml_ext.tags import COLLECTED_TAG, OPEN_TAG, ZENBATCH_TAG


@step(enable_cache=False, output_materializers={"batch_job": BatchJobMaterializer})
def submit_batch(plan: BatchJob) -> Annotated[BatchJob, ArtifactConfig(name="batch_job", tags=[ZENBATCH_TAG])]:
    """Submit every shard that is due; the same work submitted before goes on from its saved state."""
    job, outcome = submit_plan(plan)
    log_metadata(outcome.model_dump(mode="json"))
    # The loader moves the open tag on; older open versions of this job are retired by it too.
    state = COLLECTED_TAG if outcome.already_collected else OPEN_TAG
    add_tags(tags=[job_tag(job.job_id), state], infer_artifact=True, artifact_name="batch_job")
    return job
