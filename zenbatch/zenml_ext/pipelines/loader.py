"""Loader, run on a schedule: poll, collect and resubmit open jobs; pause the schedule when none is left."""

from zenml import pipeline

from zenbatch.zenml_ext.alerts import on_loader_failure
from zenbatch.zenml_ext.steps.advance_jobs import advance_jobs
from zenbatch.zenml_ext.steps.find_open_jobs import find_open_jobs
from zenbatch.zenml_ext.steps.pause_when_done import pause_when_done


@pipeline(enable_cache=False, on_failure=on_loader_failure)
def loader_pipeline() -> None:
    report = advance_jobs(find_open_jobs())
    pause_when_done(report)
