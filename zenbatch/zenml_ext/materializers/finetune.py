"""The ``finetune_dataset`` artifact: ``train.jsonl`` and ``validation.jsonl``, ready to upload.

The files are stored as they are, so ``zenml artifact`` users (or ``load()``) get files that
OpenAI's fine-tuning API accepts without conversion.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import orjson
from zenml.enums import ArtifactType, VisualizationType
from zenml.io import fileio
from zenml.materializers.base_materializer import BaseMaterializer

from zenbatch.finetune import FinetuneDataset, write_finetune

INFO_FILE = "dataset.json"
SAMPLE_EXAMPLES = 3


def _read_jsonl(path: str) -> list[dict[str, Any]]:
    if not fileio.exists(path):
        return []
    with fileio.open(path, "rb") as handle:
        return [orjson.loads(line) for line in handle.read().splitlines() if line.strip()]


class FinetuneMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (FinetuneDataset,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def save(self, data: FinetuneDataset) -> None:
        with tempfile.TemporaryDirectory(prefix="zenbatch-finetune-") as folder:
            for path in write_finetune(data, Path(folder)).values():
                fileio.copy(str(path), os.path.join(self.uri, Path(path).name), overwrite=True)
        info = {"skipped": data.skipped, "rows_used": data.rows_used}
        with fileio.open(os.path.join(self.uri, INFO_FILE), "wb") as handle:
            handle.write(orjson.dumps(info))

    def load(self, data_type: type[Any]) -> FinetuneDataset:
        with fileio.open(os.path.join(self.uri, INFO_FILE), "rb") as handle:
            info = orjson.loads(handle.read())
        return FinetuneDataset(
            train=_read_jsonl(os.path.join(self.uri, "train.jsonl")),
            validation=_read_jsonl(os.path.join(self.uri, "validation.jsonl")),
            **info,
        )

    def save_visualizations(self, data: FinetuneDataset) -> dict[str, VisualizationType]:
        lines = [
            "# Fine-tuning dataset", "",
            f"{len(data.train)} training and {len(data.validation)} validation examples "
            f"from {data.rows_used} rows, in OpenAI's chat fine-tuning format.", "",
        ]  # fmt: skip
        if data.skipped:
            lines += ["| rows left out | count |", "|---|---|", *(f"| {k} | {v} |" for k, v in data.skipped.items()), ""]
        for example in data.train[:SAMPLE_EXAMPLES]:
            lines += ["```json", orjson.dumps(example, option=orjson.OPT_INDENT_2).decode(), "```", ""]
        path = os.path.join(self.uri, "finetune.md")
        with fileio.open(path, "w") as handle:
            handle.write("\n".join(lines))
        return {path: VisualizationType.MARKDOWN}

    def extract_metadata(self, data: FinetuneDataset) -> dict[str, Any]:
        return {"train_examples": len(data.train), "validation_examples": len(data.validation), "rows_used": data.rows_used}
