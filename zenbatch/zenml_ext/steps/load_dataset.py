"""Step: read the job's dataset file (CSV, Parquet or JSONL) into the ``dataset`` artifact."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step

from zenbatch.config import JobConfig
from zenbatch.estimate import read_job_dataset


@step
def load_dataset(job: JobConfig) -> Annotated[pd.DataFrame, "dataset"]:
    """The rows of ``job.dataset.path``, cut to ``job.dataset.limit``."""
    frame = read_job_dataset(job)
    log_metadata({"source": job.dataset_source() or "", "rows": len(frame), "columns": [str(c) for c in frame.columns]})
    return frame
