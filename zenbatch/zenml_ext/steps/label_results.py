"""Step: a label per result row (from the structured answer or a parser), invalid answers flagged."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from zenml import ArtifactConfig, add_tags, log_metadata, step

from zenbatch.zenml_ext.materializers.results import ResultsMaterializer
from zenbatch import labeling
from zenbatch.parts import ResultsView, frames_of
from zenbatch.zenml_ext.registry import job_tag
from zenbatch.zenml_ext.tags import ZENBATCH_TAG


@step(output_materializers={"labeled_dataset": ResultsMaterializer})
def label_results(
    batch_results: ResultsView, config: dict[str, Any], job_id: str | None = None
) -> Annotated[pd.DataFrame, ArtifactConfig(name="labeled_dataset", tags=[ZENBATCH_TAG])]:
    """``config`` is a ``LabelConfig`` (see configs/pipelines/labeling.yaml)."""
    labeled = labeling.label_parts(frames_of(batch_results), labeling.LabelConfig.model_validate(config))
    log_metadata({
        "rows": labeled.rows, "invalid": labeled.invalid, "missing_or_failed": labeled.missing_or_failed,
        "label_distribution": labeled.distribution, "job_id": job_id or "",
    })  # fmt: skip
    if job_id:
        add_tags(tags=[job_tag(job_id)], infer_artifact=True, artifact_name="labeled_dataset")
    return labeled.frame
