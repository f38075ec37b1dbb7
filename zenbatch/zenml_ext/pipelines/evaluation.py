"""Evaluation: ``labeled_dataset`` -> ``evaluation_report`` (metrics against a ground-truth column)."""

from zenml import pipeline
from zenml.client import Client

from zenbatch.zenml_ext.steps.evaluate_labels import evaluate_labels


@pipeline
def evaluation_pipeline(labeled_version: str | None = None, job_id: str | None = None) -> None:
    labeled_dataset = Client().get_artifact_version("labeled_dataset", version=labeled_version)
    evaluate_labels(labeled_dataset, job_id=job_id)
