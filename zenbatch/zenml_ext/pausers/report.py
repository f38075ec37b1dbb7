"""What a pause did, and the one way an orchestrator-side failure is worded."""

from __future__ import annotations

from pydantic import BaseModel

from zenbatch.errors import SchedulePauseError


class PauseReport(BaseModel):
    """What pausing one schedule did, in order.

    Attributes:
        schedule_name: the ZenML schedule's name.
        orchestrator: the orchestrator flavor.
        orchestrator_paused: the orchestrator's schedule is paused now (also when it already was).
        zenml_flag_flipped: ZenML's stored ``active`` flag is off now (also when it already was).
        steps: what was done, one human-readable line per action.
        warning: what is left for a person to do, if anything.
    """

    schedule_name: str
    orchestrator: str
    orchestrator_paused: bool
    zenml_flag_flipped: bool
    steps: list[str]
    warning: str | None = None


class PauseOutcome(BaseModel):
    """What the loader's last step decided: ``pause_report``, the artifact.

    Attributes:
        paused: the schedule was paused by this run.
        reason: why, or why not (jobs still open, not a scheduled run).
        report: what pausing did, when it was tried.
    """

    paused: bool
    reason: str
    report: PauseReport | None = None


def not_paused(schedule_name: str, orchestrator: str, failed: str, todo: str) -> SchedulePauseError:
    """Builds the error for a failure on the orchestrator's side, before ZenML's flag was touched.

    Args:
        schedule_name: the ZenML schedule's name.
        orchestrator: the orchestrator flavor.
        failed: what failed, with the provider's own error code and message.
        todo: what to do about it.
    """
    return SchedulePauseError(
        f"Schedule {schedule_name!r} was not paused on the {orchestrator} orchestrator: {failed}. "
        f"ZenML's schedule stays active, so the next run tries again. To fix: {todo}",
        schedule_name=schedule_name,
        orchestrator=orchestrator,
    )
