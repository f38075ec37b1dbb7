"""``batch_results`` (a :class:`~zenbatch.parts.ResultsView`) and row tables (``labeled_dataset``), with their cards.

A ``batch_results`` version holds a manifest of the job's results parts (their digests and
statistics); the parts themselves stay where the loader wrote them, once, in the artifact
store's blob store. Loading gives a lazy view; its card and metadata come from the parts'
statistics, reading at most a part or two for sample rows.

A DataFrame (``labeled_dataset``, or a ``batch_results`` version saved by an older zenbatch) is
one Parquet file; answers parsed from JSON and embeddings are kept as JSON text and parsed back.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import orjson
import pandas as pd
from zenml.enums import ArtifactType, VisualizationType
from zenml.io import fileio
from zenml.materializers.base_materializer import BaseMaterializer

from zenbatch.parts import SAMPLES, ResultPart, ResultsView, error_codes, part_statistics, read_part, write_part
from zenbatch.pricing import JobEstimate
from zenbatch.reports import render_results_card
from zenbatch.results import SUCCEEDED, summarize
from zenbatch.zenml_ext.blob_store import arrow_filesystem, artifact_blobs

DATA_FILE = "results.parquet"
MANIFEST = "parts.json"


class ResultsMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (ResultsView, pd.DataFrame)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA
    SKIP_REGISTRATION: ClassVar[bool] = True  # only where asked for; other DataFrames keep pandas' materializer

    def save(self, data: ResultsView | pd.DataFrame) -> None:
        if isinstance(data, pd.DataFrame):
            with fileio.open(os.path.join(self.uri, DATA_FILE), "wb") as handle:
                write_part(data, handle)
            return
        blobs = artifact_blobs(self.artifact_store)
        for path, part in zip(data.paths, data.parts):
            if not blobs.has(part.sha256, "parquet"):
                blobs.put(path, part.sha256, "parquet")
        estimate = data.estimate.model_dump(mode="json") if data.estimate else None
        manifest = {"parts": [p.model_dump(mode="json") for p in data.parts], "estimate": estimate}
        with fileio.open(os.path.join(self.uri, MANIFEST), "wb") as handle:
            handle.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))

    def load(self, data_type: type[Any]) -> ResultsView | pd.DataFrame:
        if not fileio.exists(os.path.join(self.uri, MANIFEST)):
            with fileio.open(os.path.join(self.uri, DATA_FILE), "rb") as handle:
                return read_part(handle)
        with fileio.open(os.path.join(self.uri, MANIFEST), "rb") as handle:
            manifest = orjson.loads(handle.read())
        blobs = artifact_blobs(self.artifact_store)
        parts = [ResultPart.model_validate(p) for p in manifest["parts"]]
        estimate = JobEstimate.model_validate(manifest["estimate"]) if manifest.get("estimate") else None
        return ResultsView([blobs.path(p.sha256, "parquet") for p in parts], parts, files=fileio,
                           arrow_filesystem=arrow_filesystem(self.artifact_store), estimate=estimate)  # fmt: skip

    def save_visualizations(self, data: ResultsView | pd.DataFrame) -> dict[str, VisualizationType]:
        path = os.path.join(self.uri, "results.html")
        if isinstance(data, ResultsView):
            card = render_results_card(data.summary, error_codes(data.parts), data.samples(True), data.samples(False), data.estimate)
        else:
            ok = data["status"] == SUCCEEDED
            codes = part_statistics(data, pd.Series(False, index=data.index))["error_codes"]
            card = render_results_card(summarize(data), codes, data[ok].head(SAMPLES), data[~ok].head(SAMPLES))
        with fileio.open(path, "w") as handle:
            handle.write(card)
        return {path: VisualizationType.HTML}

    def extract_metadata(self, data: ResultsView | pd.DataFrame) -> dict[str, Any]:
        if isinstance(data, ResultsView):
            return {**data.summary, "parts": len(data.parts)}
        return dict(summarize(data))
