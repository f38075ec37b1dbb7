"""Step: poll, collect and resubmit every open job; save results of jobs that finished."""

from __future__ import annotations

from typing import Annotated

from zenml import log_metadata, step

from zenbatch.zenml_ext.loader import LoaderReport, advance_open_jobs


@step(enable_cache=False)
def advance_jobs(open_jobs: list[str]) -> Annotated[LoaderReport, "loader_report"]:
    """One pass over the open jobs; the report says which are still open and which wait."""
    report = advance_open_jobs(open_jobs)
    log_metadata({"still_open": report.still_open, "collected": len(report.collected), "waiting": len(report.waiting)})
    return report
