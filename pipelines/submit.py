"""Submit: dataset -> validated, sharded, priced requests -> batches -> ``batch_job``."""

from zenml import pipeline

from steps.load_dataset import load_dataset
from steps.plan_batch import plan_batch
from steps.submit_batch import submit_batch


@pipeline
def submit_pipeline(job_config: str, provider_config: str | None = None, max_attempts: int = 3) -> None:
    dataset = load_dataset(job_config=job_config)
    plan = plan_batch(dataset, job_config=job_config, provider_config=provider_config, max_attempts=max_attempts)
    submit_batch(plan)
