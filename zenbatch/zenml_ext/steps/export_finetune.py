"""Step: a validated chat fine-tuning dataset (train / validation) from the rows that passed."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import orjson
from zenml import ArtifactConfig, add_tags, log_metadata, step

from zenbatch.finetune import FinetuneConfig, FinetuneDataset, build_finetune, validate_finetune_file, write_finetune
from zenbatch.jobs import BatchJob
from zenbatch.labeling import VALID_COLUMN
from zenbatch.lifecycle.riders import riders_in
from zenbatch.parts import ResultsView, columns_of
from zenbatch.shards import iter_shard_lines
from zenbatch.yaml_config import from_mapping
from zenbatch.zenml_ext.materializers.finetune import FinetuneMaterializer
from zenbatch.zenml_ext.registry import job_tag
from zenbatch.zenml_ext.tags import ZENBATCH_TAG


def _requests(job: BatchJob) -> Iterator[dict[str, Any]]:
    for shard in job.shards:
        if shard.attempt == 1:  # retries resend the same requests
            yield from (orjson.loads(line) for line in iter_shard_lines(job.input_file(shard))) if shard.requests else ()
            riders = riders_in(job, *job.row_range(shard))  # rows answered by another job
            yield from (orjson.loads(line) for line in riders.get("line", []) if isinstance(line, str))


@step(output_materializers={"finetune_dataset": FinetuneMaterializer})
def export_finetune(
    labeled_dataset: ResultsView, batch_job: BatchJob, config: dict[str, Any], job_id: str | None = None
) -> Annotated[FinetuneDataset, ArtifactConfig(name="finetune_dataset", tags=[ZENBATCH_TAG])]:
    """``config`` is a ``FinetuneConfig`` (see configs/pipelines/finetune.yaml)."""
    settings = from_mapping(FinetuneConfig, config, "the export_finetune step's config (the finetune pipeline config)")
    needed = ["custom_id", "status", "content", VALID_COLUMN, settings.predicted_column, settings.truth_column or ""]
    dataset = build_finetune(columns_of(labeled_dataset, needed), _requests(batch_job), settings)
    with tempfile.TemporaryDirectory(prefix="zenbatch-finetune-") as folder:
        # Check the files exactly as they will be uploaded; a bad file fails here, not at the provider.
        reports = {name: validate_finetune_file(path, strict=True) for name, path in write_finetune(dataset, Path(folder)).items()}
    log_metadata({
        "train_examples": len(dataset.train), "validation_examples": len(dataset.validation),
        "rows_used": dataset.rows_used, "skipped": dataset.skipped,
        "tokens": {name: report.tokens for name, report in reports.items()},
    })  # fmt: skip
    if job_id:
        add_tags(tags=[job_tag(job_id)], infer_artifact=True, artifact_name="finetune_dataset")
    return dataset
