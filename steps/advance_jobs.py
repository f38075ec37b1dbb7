"""Step: poll, collect and resubmit every open job; save results of jobs that finished."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import log_metadata, step

from zenbatch.zenml_ext.loader import advance_job_version


@step(enable_cache=False)
def advance_jobs(open_jobs: list[str]) -> Annotated[dict[str, Any], "loader_report"]:
    """One pass over the open jobs; the report says which are still open."""
    progress = [advance_job_version(version_id) for version_id in open_jobs]
    report = {
        "jobs": [p.model_dump() for p in progress],
        "still_open": sum(not p.final for p in progress),
        "collected": [p.job_id for p in progress if p.final],
    }
    log_metadata({"still_open": report["still_open"], "collected": len(report["collected"])})
    return report
