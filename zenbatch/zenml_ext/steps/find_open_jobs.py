"""Step: the newest ``batch_job`` version of every job still open (tag ``zenbatch-open``)."""

from __future__ import annotations

from typing import Annotated

from zenml import log_metadata, step

from zenbatch.zenml_ext.registry import open_job_versions


@step(enable_cache=False)
def find_open_jobs() -> Annotated[list[str], "open_jobs"]:
    versions = [str(v.id) for v in open_job_versions()]
    log_metadata({"open_jobs": len(versions)})
    return versions
