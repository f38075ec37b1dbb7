"""Step: once no job is open, pause the schedule this run belongs to (the loader's last act)."""

from __future__ import annotations

from typing import Annotated

from zenml import get_step_context, log_metadata, step
from zenml.client import Client

from zenbatch.zenml_ext import pausers
from zenbatch.zenml_ext.loader import LoaderReport
from zenbatch.zenml_ext.pausers import PauseOutcome


@step(enable_cache=False)
def pause_when_done(loader_report: LoaderReport) -> Annotated[PauseOutcome, "pause_report"]:
    """Pause the orchestrator's schedule first, then ZenML's flag; nothing while jobs are open."""
    orchestrator = Client().active_stack.orchestrator
    outcome = pausers.pause_when_done(loader_report.still_open, get_step_context().pipeline_run.schedule,
                                      orchestrator.flavor, orchestrator.config.model_dump(mode="json"))  # fmt: skip
    log_metadata({"paused": outcome.paused, "reason": outcome.reason})
    return outcome
