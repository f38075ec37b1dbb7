"""Labeling: ``batch_results`` (the latest or a pinned version) -> ``labeled_dataset``."""

from zenml import pipeline
from zenml.client import Client

from zenbatch.zenml_ext.steps.label_results import label_results


@pipeline
def labeling_pipeline(results_version: str | None = None, job_id: str | None = None) -> None:
    # A lazy reference: ZenML resolves the version when the run starts, and records the lineage.
    batch_results = Client().get_artifact_version("batch_results", version=results_version)
    label_results(batch_results, job_id=job_id)
