"""The ``evaluation_report`` artifact: the metrics as JSON, with an HTML card for the dashboard."""

from __future__ import annotations

import os
from typing import Any, ClassVar

import orjson
from zenml.enums import ArtifactType, VisualizationType
from zenml.io import fileio
from zenml.materializers.base_materializer import BaseMaterializer

from zenbatch.evaluation import EvaluationReport
from zenbatch.reports import render_evaluation_card

DATA_FILE = "evaluation.json"


class EvaluationMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (EvaluationReport,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA_ANALYSIS

    def save(self, data: EvaluationReport) -> None:
        with fileio.open(os.path.join(self.uri, DATA_FILE), "wb") as handle:
            handle.write(orjson.dumps(data.model_dump(mode="json"), option=orjson.OPT_INDENT_2))

    def load(self, data_type: type[Any]) -> EvaluationReport:
        with fileio.open(os.path.join(self.uri, DATA_FILE), "rb") as handle:
            return EvaluationReport.model_validate(orjson.loads(handle.read()))

    def save_visualizations(self, data: EvaluationReport) -> dict[str, VisualizationType]:
        path = os.path.join(self.uri, "evaluation.html")
        with fileio.open(path, "w") as handle:
            handle.write(render_evaluation_card(data.model_dump(mode="json")))
        return {path: VisualizationType.HTML}

    def extract_metadata(self, data: EvaluationReport) -> dict[str, Any]:
        return {"accuracy": data.accuracy, "macro_f1": data.macro_f1, "coverage": data.coverage, "evaluated": data.evaluated}
