"""Step: validate the dataset against the template, shard it and price it (refusing above budget)."""

from __future__ import annotations

import tempfile
from typing import Annotated

import pandas as pd
from zenml import get_step_context, log_metadata, step
from zenml.logger import get_logger

from steps.paths import resolve
from zenbatch.config import JobConfig
from zenbatch.jobs import BatchJob
from zenbatch.lifecycle import prepare_job
from zenbatch.progress import LineProgress

logger = get_logger(__name__)


@step
def plan_batch(
    dataset: pd.DataFrame,
    job_config: str,
    provider_config: str | None = None,
    max_attempts: int = 3,
) -> Annotated[BatchJob, "batch_plan"]:
    """The job's shards, written and hashed, with the estimate; nothing is uploaded."""
    config = JobConfig.from_yaml(resolve(job_config), provider=resolve(provider_config) if provider_config else None)
    job, estimate = prepare_job(
        config, tempfile.mkdtemp(prefix="zenbatch-plan-"), dataset, max_attempts=max_attempts,
        progress=LineProgress(logger.info, "rows"),
    )  # fmt: skip
    context = get_step_context()
    job.inputs_ref = str(context.step_run.inputs["dataset"][0].id)
    if context.model is not None:
        job.model_version = f"{context.model.name}:{context.model.version}"
    log_metadata({
        "provider": job.provider, "endpoint": job.endpoint, "model": job.model, "pricing_model": job.pricing_model,
        "shards": len(job.shards), "requests": estimate.requests,
        "estimated_prompt_tokens": estimate.prompt_tokens, "estimated_output_tokens": estimate.output_tokens,
        "estimated_batch_cost": estimate.total.batch, "estimated_realtime_cost": estimate.total.realtime,
        "currency": estimate.currency, "prices_as_of": estimate.prices_as_of,
    })  # fmt: skip
    return job
