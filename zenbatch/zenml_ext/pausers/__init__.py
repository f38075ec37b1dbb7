"""Pausing a ZenML schedule: the orchestrator's schedule first, ZenML's stored flag last.

The order matters twice. On an authenticated ZenML server a scheduled run's token is scoped to
its schedule and refused once the schedule is inactive, so the flag is turned off as the run's
last act. And when the orchestrator cannot be paused the flag stays on and a
:class:`~zenbatch.errors.SchedulePauseError` is raised, so the next run tries again.

By orchestrator flavor:

- ``kubernetes``, ``zenbatch_local``, ``zenbatch_rehearsal``: ``Client().update_schedule(id, active=False)``, which updates
  the orchestrator (Kubernetes suspends the CronJob) and then the flag.
- ``vertex``: every Vertex ``PipelineJobSchedule`` whose display name is the schedule's name is
  paused, then the stored flag alone is turned off with
  ``Client().zen_store.update_schedule(id, ScheduleUpdate(active=False))``; ZenML's vertex
  orchestrator has no schedule updates, so ``Client().update_schedule`` would change nothing.
- ``sagemaker``: the EventBridge Scheduler schedule ZenML created (named in the schedule's
  ``trigger_url`` metadata) is sent back whole with ``State="DISABLED"``, then the stored flag.
- any other flavor: nothing is changed, neither the orchestrator nor ZenML's flag, and the
  report's warning says how to pause it by hand. The flag is left on because turning it off would
  claim a pause that did not happen: the orchestrator keeps firing, ZenML would show the schedule
  inactive, and on an authenticated server the runs it still fires would fail on their token
  instead of saying why. With the flag on, each run warns again until someone acts.

Every path is idempotent: an already paused schedule is reported as such, so a retried run is
harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zenbatch.zenml_ext.pausers.report import PauseOutcome, PauseReport
from zenbatch.zenml_ext.pausers.sagemaker import pause_sagemaker
from zenbatch.zenml_ext.pausers.vertex import pause_vertex
from zenbatch.zenml_ext.pausers.zenml_schedule import flag_off_by_hand, pause_through_zenml, turn_off_stored_flag

if TYPE_CHECKING:
    from zenml.client import Client
    from zenml.models import ScheduleResponse

__all__ = ["PauseOutcome", "PauseReport", "pause_schedule", "pause_when_done"]

# Flavors whose orchestrator implements ZenML's update_schedule; zenbatch_local is the project's
# local scheduling orchestrator.
THROUGH_ZENML = frozenset({"kubernetes", "zenbatch_local", "zenbatch_rehearsal"})
ORCHESTRATOR_PAUSERS = {"vertex": pause_vertex, "sagemaker": pause_sagemaker}


def pause_schedule(
    schedule: ScheduleResponse,
    orchestrator_flavor: str,
    orchestrator_config: Mapping[str, Any] | None = None,
    *,
    zenml_client: Client | None = None,
) -> PauseReport:
    """Pauses a schedule on its orchestrator, then turns off ZenML's stored flag.

    Args:
        schedule: the ZenML schedule (``get_step_context().pipeline_run.schedule``).
        orchestrator_flavor: the orchestrator's flavor name (``Client().active_stack.orchestrator.flavor``).
        orchestrator_config: the orchestrator's config (vertex: ``project``, ``location``;
            sagemaker: ``region`` and the AWS credential settings).
        zenml_client: the ZenML client to use; the default client when omitted.

    Returns:
        What was done, in order; ``warning`` is set when a person has to act.

    Raises:
        SchedulePauseError: the orchestrator's schedule was not paused (ZenML's flag is left on),
            or it was but the flag could not be turned off.
    """
    config = orchestrator_config or {}
    if orchestrator_flavor in THROUGH_ZENML:
        return pause_through_zenml(schedule, orchestrator_flavor, zenml_client or _default_client())
    pause_on_orchestrator = ORCHESTRATOR_PAUSERS.get(orchestrator_flavor)
    if pause_on_orchestrator is None:
        return _cannot_pause(schedule, orchestrator_flavor)
    steps = pause_on_orchestrator(schedule, config)
    steps.append(turn_off_stored_flag(schedule, orchestrator_flavor, zenml_client or _default_client()))
    return PauseReport(
        schedule_name=schedule.name,
        orchestrator=orchestrator_flavor,
        orchestrator_paused=True,
        zenml_flag_flipped=True,
        steps=steps,
    )


def pause_when_done(
    still_open: int, schedule: ScheduleResponse | None, orchestrator_flavor: str, orchestrator_config: Mapping[str, Any] | None = None
) -> PauseOutcome:
    """Pauses the schedule of the running loader once no job is open; nothing while any is.

    Raises:
        SchedulePauseError: as :func:`pause_schedule`.
    """
    if still_open:
        return PauseOutcome(paused=False, reason=f"{still_open} job(s) still open")
    if schedule is None:
        return PauseOutcome(paused=False, reason="not a scheduled run: nothing to pause")
    report = pause_schedule(schedule, orchestrator_flavor, orchestrator_config)
    return PauseOutcome(paused=report.orchestrator_paused, reason="no job is open", report=report)


def _default_client() -> Client:
    from zenml.client import Client

    return Client()


def _cannot_pause(schedule: ScheduleResponse, flavor: str) -> PauseReport:
    return PauseReport(
        schedule_name=schedule.name,
        orchestrator=flavor,
        orchestrator_paused=False,
        zenml_flag_flipped=False,
        steps=[f"nothing changed: zenbatch cannot pause schedules on the {flavor!r} orchestrator"],
        warning=(
            f"Schedule {schedule.name!r} is still firing: zenbatch cannot pause schedules on the "
            f"{flavor!r} orchestrator, so nothing was changed. Pause it by hand in that orchestrator "
            "(its console or CLI), then turn off ZenML's flag, which stays on until then so that "
            f"ZenML does not show a pause that did not happen: {flag_off_by_hand(schedule)}"
        ),
    )
