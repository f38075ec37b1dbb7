"""Submit: dataset -> validated, sharded, priced requests -> batches -> ``batch_job``."""

from zenml import pipeline
from zenml.client import Client

from steps.load_dataset import load_dataset
from steps.plan_batch import plan_batch
from steps.submit_batch import submit_batch


@pipeline
def submit_pipeline(
    job_config: str,
    provider_config: str | None = None,
    max_attempts: int = 3,
    dataset_artifact: str | None = None,
    dataset_version: str | None = None,
) -> None:
    if dataset_artifact:  # an existing DataFrame artifact, resolved when the run starts
        dataset = Client().get_artifact_version(dataset_artifact, version=dataset_version)
    else:
        dataset = load_dataset(job_config=job_config)
    plan = plan_batch(dataset, job_config=job_config, provider_config=provider_config, max_attempts=max_attempts)
    submit_batch(plan)
