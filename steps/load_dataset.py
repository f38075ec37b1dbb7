"""Step: read the job's dataset (CSV, Parquet or JSONL) into the ``dataset`` artifact."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from steps.paths import resolve
from zenbatch.config import JobConfig
from zenbatch.datasets import read_dataset
from zenbatch.errors import ConfigError


@step
def load_dataset(job_config: str, path: str | None = None, limit: int | None = None) -> Annotated[pd.DataFrame, "dataset"]:
    """Read ``path``, or the dataset the job config names; ``limit`` keeps the first rows."""
    if path is None:
        config = JobConfig.from_yaml(resolve(job_config))
        if config.dataset is None or config.dataset.path is None:
            raise ConfigError(f"{job_config} names no dataset file: add dataset.path or pass the step's path parameter")
        source = config.resolve(config.dataset.path)
        limit = limit or config.dataset.limit
    else:
        source = resolve(path)
    frame = read_dataset(source)
    if limit:
        frame = frame.head(limit)
    log_metadata({"source": str(source), "rows": len(frame), "columns": [str(c) for c in frame.columns]})
    return frame
