"""Step: a validated chat fine-tuning dataset (train / validation) from the rows that passed."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import ArtifactConfig, add_tags, log_metadata, step

from zenbatch import finetune
from zenbatch.finetune import FinetuneConfig, FinetuneDataset
from zenbatch.jobs import BatchJob
from zenbatch.labeling import VALID_COLUMN
from zenbatch.lifecycle.riders import job_requests
from zenbatch.parts import ResultsView, columns_of
from zenbatch.yaml_config import from_mapping
from zenbatch.zenml_ext.materializers.finetune import FinetuneMaterializer
from zenbatch.zenml_ext.registry import job_tag
from zenbatch.zenml_ext.tags import ZENBATCH_TAG


@step(output_materializers={"finetune_dataset": FinetuneMaterializer})
def export_finetune(
    labeled_dataset: ResultsView, batch_job: BatchJob, config: dict[str, Any], job_id: str | None = None
) -> Annotated[FinetuneDataset, ArtifactConfig(name="finetune_dataset", tags=[ZENBATCH_TAG])]:
    """``config`` is a ``FinetuneConfig`` (see configs/pipelines/finetune.yaml)."""
    settings = from_mapping(FinetuneConfig, config, "the export_finetune step's config (the finetune pipeline config)")
    needed = ["custom_id", "status", "content", VALID_COLUMN, settings.predicted_column, settings.truth_column or ""]
    dataset, reports = finetune.export_finetune(columns_of(labeled_dataset, needed), job_requests(batch_job), settings)
    log_metadata({
        "train_examples": len(dataset.train), "validation_examples": len(dataset.validation),
        "rows_used": dataset.rows_used, "skipped": dataset.skipped,
        "tokens": {name: report.tokens for name, report in reports.items()},
    })  # fmt: skip
    if job_id:
        add_tags(tags=[job_tag(job_id)], infer_artifact=True, artifact_name="finetune_dataset")
    return dataset
