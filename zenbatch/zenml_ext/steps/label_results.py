"""Step: a label per result row (from the structured answer or a parser), invalid answers flagged."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from zenml import ArtifactConfig, add_tags, log_metadata, step

from zenbatch import labeling
from zenbatch.parts import ResultsView
from zenbatch.yaml_config import from_mapping
from zenbatch.zenml_ext.blob_store import artifact_blobs
from zenbatch.zenml_ext.materializers.results import ResultsMaterializer
from zenbatch.zenml_ext.registry import job_tag
from zenbatch.zenml_ext.tags import ZENBATCH_TAG


@step(output_materializers={"labeled_dataset": ResultsMaterializer})
def label_results(
    batch_results: ResultsView, config: dict[str, Any], job_id: str | None = None
) -> Annotated[ResultsView, ArtifactConfig(name="labeled_dataset", tags=[ZENBATCH_TAG])]:
    """``config`` is a ``LabelConfig`` (see configs/pipelines/labeling.yaml); labeled a part at a time."""
    settings = from_mapping(labeling.LabelConfig, config, "the label_results step's config (the labeling pipeline config)")
    with tempfile.TemporaryDirectory(prefix="zenbatch-labels-") as folder:  # each part is in the blob store once written
        view, labeled = labeling.label_view(batch_results, settings, Path(folder), artifact_blobs())
    log_metadata({
        "rows": labeled.rows, "invalid": labeled.invalid, "missing_or_failed": labeled.missing_or_failed,
        "label_distribution": labeled.distribution, "job_id": job_id or "",
    })  # fmt: skip
    if job_id:
        add_tags(tags=[job_tag(job_id)], infer_artifact=True, artifact_name="labeled_dataset")
    return view
