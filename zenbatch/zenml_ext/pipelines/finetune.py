"""Fine-tuning export: ``labeled_dataset`` + the job's requests -> ``finetune_dataset``."""

from zenml import pipeline
from zenml.client import Client

from zenbatch.zenml_ext.steps.export_finetune import export_finetune


@pipeline
def finetune_pipeline(labeled_version: str | None = None, job_version: str | None = None, job_id: str | None = None) -> None:
    labeled_dataset = Client().get_artifact_version("labeled_dataset", version=labeled_version)
    batch_job = Client().get_artifact_version("batch_job", version=job_version)
    export_finetune(labeled_dataset, batch_job, job_id=job_id)
