"""Step: validate the dataset against the template, shard it and price it (refusing above budget)."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from zenml import get_step_context, log_metadata, step
from zenml.logger import get_logger

from zenbatch.config import JobConfig
from zenbatch.jobs import BatchJob
from zenbatch.lifecycle import prepare_job
from zenbatch.progress import LineProgress
from zenbatch.zenml_ext.ledger import ArtifactLedger, scope_of

logger = get_logger(__name__)


@step
def plan_batch(dataset: pd.DataFrame | None, job: JobConfig, max_attempts: int = 3) -> Annotated[BatchJob, "batch_plan"]:
    """The job's shards, written and hashed, with the estimate; nothing is uploaded (``dataset`` None: the job's input file)."""
    ledger = ArtifactLedger(scope_of(job.provider))  # rows answered before are not sent again
    planned, estimate = prepare_job(job, None, dataset, max_attempts=max_attempts, progress=LineProgress(logger.info, "rows"), ledger=ledger)
    context = get_step_context()
    if "dataset" in context.step_run.inputs:
        planned.inputs_ref = str(context.step_run.inputs["dataset"][0].id)
    if context.model_version is not None:  # a pipeline without `model:` has none (context.model would raise)
        model = context.model_version.to_model_class()
        planned.model_version = f"{model.name}:{model.version}"
    if estimate.reused or estimate.waiting:
        logger.info("%d row(s) answered by earlier jobs are reused (saving %.6f %s), %d wait for an open job; %s",
                    estimate.reused, estimate.reuse_saving, estimate.currency, estimate.waiting,
                    f"{estimate.requests} new request(s) to send" if estimate.requests else "nothing new to send: no batch is created")  # fmt: skip
    log_metadata({
        "provider": planned.provider, "endpoint": planned.endpoint, "model": planned.model,
        "pricing_model": planned.pricing_model, "shards": len(planned.shards), "requests": estimate.requests,
        "estimated_prompt_tokens": estimate.prompt_tokens, "estimated_output_tokens": estimate.output_tokens,
        "estimated_batch_cost": estimate.total.batch, "estimated_realtime_cost": estimate.total.realtime,
        "currency": estimate.currency, "prices_as_of": estimate.prices_as_of,
        "reused": estimate.reused, "waiting": estimate.waiting, "reuse_saving": estimate.reuse_saving,
    })  # fmt: skip
    return planned
