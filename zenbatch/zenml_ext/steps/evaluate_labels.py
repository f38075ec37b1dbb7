"""Step: metrics of the predicted labels against a ground-truth column."""

from __future__ import annotations

from typing import Annotated

from zenml import ArtifactConfig, add_tags, log_metadata, step

from zenbatch.evaluation import EvaluationReport, evaluate
from zenbatch.parts import ResultsView, columns_of
from zenbatch.zenml_ext.materializers.evaluation import EvaluationMaterializer
from zenbatch.zenml_ext.registry import job_tag
from zenbatch.zenml_ext.tags import ZENBATCH_TAG


@step(output_materializers={"evaluation_report": EvaluationMaterializer})
def evaluate_labels(
    labeled_dataset: ResultsView,
    truth_column: str,
    predicted_column: str = "label_predicted",
    labels: list[str] | None = None,
    job_id: str | None = None,
) -> Annotated[EvaluationReport, ArtifactConfig(name="evaluation_report", tags=[ZENBATCH_TAG])]:
    frame = columns_of(labeled_dataset, [truth_column, predicted_column])  # two columns of every row, nothing more
    report = evaluate(frame, predicted=predicted_column, truth=truth_column, labels=labels)
    log_metadata({
        "accuracy": report.accuracy, "accuracy_on_valid": report.accuracy_on_valid, "coverage": report.coverage,
        "macro_f1": report.macro_f1, "weighted_f1": report.weighted_f1, "evaluated": report.evaluated,
    })  # fmt: skip
    if job_id:
        add_tags(tags=[job_tag(job_id)], infer_artifact=True, artifact_name="evaluation_report")
    return report
