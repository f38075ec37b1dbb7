"""Step: once no job is open, pause the schedule this run belongs to (the loader's last act)."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import get_step_context, log_metadata, step
from zenml.client import Client

from zenbatch.zenml_ext.pausers import pause_schedule


@step(enable_cache=False)
def pause_when_done(loader_report: dict[str, Any]) -> Annotated[dict[str, Any], "pause_report"]:
    """Pause the orchestrator's schedule first, then ZenML's flag; nothing while jobs are open."""
    schedule = get_step_context().pipeline_run.schedule
    still_open = int(loader_report.get("still_open", 0))
    if still_open:
        outcome: dict[str, Any] = {"paused": False, "reason": f"{still_open} job(s) still open"}
    elif schedule is None:
        outcome = {"paused": False, "reason": "not a scheduled run: nothing to pause"}
    else:
        orchestrator = Client().active_stack.orchestrator
        report = pause_schedule(schedule, orchestrator.flavor, orchestrator.config.model_dump(mode="json"))
        outcome = {"paused": True, "reason": "no job is open", **report.model_dump(mode="json")}
    log_metadata({"paused": outcome["paused"], "reason": outcome["reason"]})
    return outcome
