"""ZenML's side of a pause: its own schedule update, or its stored flag alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zenbatch.errors import SchedulePauseError
from zenbatch.zenml_ext.pausers.report import PauseReport, not_paused

if TYPE_CHECKING:
    from zenml.client import Client
    from zenml.models import ScheduleResponse


def deactivate_hint(name_or_id: object) -> str:
    """The command that deactivates a schedule whose orchestrator accepts ZenML's updates, for messages."""
    return f"`zenml pipeline schedule deactivate {name_or_id}`"


def flag_off_by_hand(schedule: ScheduleResponse) -> str:
    """The command that turns off ZenML's stored flag alone, for messages."""
    return (
        'python -c "from uuid import UUID; from zenml.client import Client; '
        "from zenml.models import ScheduleUpdate; "
        f"Client().zen_store.update_schedule(UUID('{schedule.id}'), ScheduleUpdate(active=False))\""
    )


def turn_off_stored_flag(schedule: ScheduleResponse, orchestrator: str, client: Client) -> str:
    """Sets ZenML's stored ``active`` flag of a schedule to False, and nothing else.

    ``Client().update_schedule`` would first ask the orchestrator to update the schedule, and for
    orchestrators without that support it logs a warning and leaves the flag as it was; the store
    call below only writes the record.

    Args:
        schedule: the ZenML schedule.
        orchestrator: the orchestrator flavor, for messages.
        client: the ZenML client whose store holds the schedule.

    Returns:
        The step line for the report.

    Raises:
        SchedulePauseError: the store refused or could not be reached.
    """
    from zenml.exceptions import ZenMLBaseException
    from zenml.models import ScheduleUpdate

    try:
        updated = client.zen_store.update_schedule(schedule_id=schedule.id, schedule_update=ScheduleUpdate(active=False))
    except (ZenMLBaseException, KeyError, OSError) as exc:
        raise SchedulePauseError(
            f"Schedule {schedule.name!r} is paused on the {orchestrator} orchestrator, but ZenML's "
            f"stored flag could not be turned off: {type(exc).__name__}: {exc}. The next run pauses "
            f"again (an already paused schedule is fine) and retries the flag; to do it now: "
            f"{flag_off_by_hand(schedule)}",
            schedule_name=schedule.name,
            orchestrator=orchestrator,
            orchestrator_paused=True,
        ) from exc
    if updated.active:
        raise SchedulePauseError(
            f"Schedule {schedule.name!r} is paused on the {orchestrator} orchestrator, but ZenML's "
            f"store still reports it active after the update. Turn it off by hand: "
            f"{flag_off_by_hand(schedule)}",
            schedule_name=schedule.name,
            orchestrator=orchestrator,
            orchestrator_paused=True,
        )
    return f"ZenML schedule {schedule.name!r}: stored flag set to inactive"


def pause_through_zenml(schedule: ScheduleResponse, orchestrator: str, client: Client) -> PauseReport:
    """Pauses a schedule whose orchestrator implements ZenML's schedule updates.

    ``Client().update_schedule`` calls the orchestrator first (Kubernetes suspends the CronJob) and
    writes the stored flag only once that returned, which is the order wanted here.

    Args:
        schedule: the ZenML schedule.
        orchestrator: the orchestrator flavor (``kubernetes``, ``zenbatch_local``).
        client: the ZenML client.

    Raises:
        SchedulePauseError: the orchestrator failed, or ZenML skipped the update (no orchestrator
            component found for the schedule, or one without schedule updates).
    """
    try:
        updated = client.update_schedule(schedule.id, active=False)
    # Orchestrator plugins raise their own SDK's errors (kubernetes ApiException...): all of them
    # mean the same thing here, and the step should see one type.
    except Exception as exc:
        raise not_paused(
            schedule.name,
            orchestrator,
            f"ZenML's schedule update failed with {type(exc).__name__}: {exc}",
            f"check that this run may update the {orchestrator} orchestrator's schedules, then "
            f"rerun, or pause it by hand with {deactivate_hint(schedule.name)}",
        ) from exc
    if updated.active:
        raise not_paused(
            schedule.name,
            orchestrator,
            "ZenML skipped the update (see its warning above: no orchestrator component found for the "
            "schedule, or one that does not support schedule updates)",
            "check with `zenml pipeline schedule list` which orchestrator the schedule belongs to and that it is still registered",
        )
    step = (
        f"ZenML paused schedule {schedule.name!r} on the {orchestrator} orchestrator and set its stored "
        "flag to inactive (an already paused schedule is left as it is)"
    )
    return PauseReport(
        schedule_name=schedule.name,
        orchestrator=orchestrator,
        orchestrator_paused=True,
        zenml_flag_flipped=True,
        steps=[step],
    )
