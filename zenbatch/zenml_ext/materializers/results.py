"""The ``batch_results`` artifact: one row per input row, as Parquet, with a dashboard card.

Answers parsed from JSON and embeddings are kept as JSON text in the file (their shapes
vary from row to row, which Parquet columns cannot hold) and parsed back on load.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import orjson
import pandas as pd
from zenml.enums import ArtifactType, VisualizationType
from zenml.io import fileio
from zenml.materializers.base_materializer import BaseMaterializer

from zenbatch.reports import render_results_card
from zenbatch.results import summarize

DATA_FILE = "results.parquet"
JSON_COLUMNS = ("parsed", "embedding")
ESTIMATE_KEY = "zenbatch_estimate"


def _dump(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _load(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else orjson.loads(value)


class ResultsMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (pd.DataFrame,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA
    SKIP_REGISTRATION: ClassVar[bool] = True  # only where asked for; other DataFrames keep pandas' materializer

    def save(self, data: pd.DataFrame) -> None:
        frame = data.copy()
        for column in JSON_COLUMNS:
            if column in frame.columns:
                frame[column] = frame[column].map(_dump).astype(object)
        with fileio.open(os.path.join(self.uri, DATA_FILE), "wb") as handle:
            frame.to_parquet(handle, index=False)

    def load(self, data_type: type[Any]) -> pd.DataFrame:
        with fileio.open(os.path.join(self.uri, DATA_FILE), "rb") as handle:
            frame = pd.read_parquet(handle)
        for column in JSON_COLUMNS:
            if column in frame.columns:
                frame[column] = frame[column].map(_load).astype(object)
        return frame

    def save_visualizations(self, data: pd.DataFrame) -> dict[str, VisualizationType]:
        path = os.path.join(self.uri, "results.html")
        estimate = data.attrs.get(ESTIMATE_KEY)
        with fileio.open(path, "w") as handle:
            handle.write(render_results_card(data, summarize(data), estimate))
        return {path: VisualizationType.HTML}

    def extract_metadata(self, data: pd.DataFrame) -> dict[str, Any]:
        return dict(summarize(data))
