"""Pausing a schedule on Vertex AI Pipelines.

ZenML's vertex orchestrator creates one ``PipelineJobSchedule`` per ZenML schedule, with the
schedule's name as display name (``PipelineJob.create_schedule(display_name=schedule.name)``). It
cannot update schedules, so the Vertex schedules are paused here through ``aiplatform``.
Credentials and the API endpoint are ``aiplatform``'s own: its global ``aiplatform.init`` settings,
else Application Default Credentials (the workload identity inside a Vertex run).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zenbatch.zenml_ext.pausers.report import not_paused
from zenbatch.zenml_ext.pausers.zenml_schedule import flag_off_by_hand

if TYPE_CHECKING:
    from zenml.models import ScheduleResponse

FLAVOR = "vertex"


def _display_name_filter(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'display_name="{escaped}"'


def pause_vertex(schedule: ScheduleResponse, config: Mapping[str, Any]) -> list[str]:
    """Pauses every active Vertex schedule named after the ZenML schedule.

    Args:
        schedule: the ZenML schedule.
        config: the vertex orchestrator's config; ``location`` is required, ``project`` may be left
            to the credentials' default project.

    Returns:
        One step line per Vertex schedule.

    Raises:
        SchedulePauseError: ``location`` is missing, no Vertex schedule has that name, or a call
            failed.
    """
    name = schedule.name
    location = config.get("location")
    project = config.get("project")
    if not location:
        raise not_paused(
            name,
            FLAVOR,
            "the orchestrator config has no `location`",
            "set it on the orchestrator component (`zenml orchestrator update <name> --location=<region>`)",
        )
    where = f"project {project or '(the credentials default)'}, location {location}"
    access = f"check that this run's Google credentials may list and pause Vertex schedules in {where} (role roles/aiplatform.user), then rerun"
    try:
        from google.api_core.exceptions import GoogleAPIError
        from google.auth.exceptions import GoogleAuthError
        from google.cloud import aiplatform
    except ImportError as exc:
        raise not_paused(name, FLAVOR, f"google-cloud-aiplatform is not installed ({exc})", "pip install 'zenbatch[vertex]'") from exc

    calls_failed = (GoogleAPIError, GoogleAuthError, OSError)
    try:
        found = aiplatform.PipelineJobSchedule.list(filter=_display_name_filter(name), project=project, location=location)
    except calls_failed as exc:
        raise not_paused(name, FLAVOR, f"listing Vertex schedules failed: {type(exc).__name__}: {exc}", access) from exc
    if not found:
        raise not_paused(
            name,
            FLAVOR,
            f"no Vertex schedule has display name {name!r} in {where}",
            "check the orchestrator's project and location; if the Vertex schedule was deleted by "
            f"hand, turn off ZenML's flag alone: {flag_off_by_hand(schedule)}",
        )

    steps = []
    for vertex_schedule in found:
        try:
            steps.append(_pause_one(vertex_schedule, name, where))
        except calls_failed as exc:
            raise not_paused(
                name,
                FLAVOR,
                f"pausing Vertex schedule {vertex_schedule.resource_name} failed: {type(exc).__name__}: {exc}",
                access,
            ) from exc
    return steps


def _pause_one(vertex_schedule: Any, name: str, where: str) -> str:
    """Pauses one Vertex schedule if it is active; returns the step line."""
    from google.cloud.aiplatform_v1 import Schedule

    states = Schedule.State
    resource = vertex_schedule.resource_name
    state = states(vertex_schedule.state)
    if state == states.PAUSED:
        return f"Vertex schedule {resource}: already paused"
    if state == states.COMPLETED:
        return f"Vertex schedule {resource}: COMPLETED, it fires no more"
    if state != states.ACTIVE:
        raise not_paused(
            name,
            FLAVOR,
            f"Vertex schedule {resource} is {state.name}",
            f"look at it in the Vertex AI console ({where}) and pause it there, then rerun",
        )
    vertex_schedule.pause()
    # The pause call returns nothing: read the state back rather than assume it.
    after = states(vertex_schedule.state)
    if after != states.PAUSED:
        raise not_paused(
            name, FLAVOR, f"Vertex schedule {resource} is {after.name} after pause", f"pause it in the Vertex AI console ({where}), then rerun"
        )
    return f"Vertex schedule {resource}: paused"
