"""Submit: dataset -> validated, sharded, priced requests -> batches -> ``batch_job``."""

from zenml import pipeline
from zenml.client import Client

from zenbatch.config import JobConfig
from zenbatch.zenml_ext.steps.load_dataset import load_dataset
from zenbatch.zenml_ext.steps.plan_batch import plan_batch
from zenbatch.zenml_ext.steps.submit_batch import submit_batch


@pipeline
def submit_pipeline(job: JobConfig, max_attempts: int = 3) -> None:
    """``job`` travels as content (a step parameter), so no step reads the submitting machine's files."""
    source = job.dataset
    if job.input_file is not None:  # an existing batch file: its lines are the requests, no dataset of rows
        submit_batch(plan_batch(None, job=job, max_attempts=max_attempts))
        return
    if source is not None and source.artifact:  # an existing DataFrame artifact, resolved when the run starts
        dataset = Client().get_artifact_version(source.artifact, version=source.version)
    else:
        dataset = load_dataset(job=job)
    plan = plan_batch(dataset, job=job, max_attempts=max_attempts)
    submit_batch(plan)
