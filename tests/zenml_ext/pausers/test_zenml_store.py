"""The flag on a real local ZenML store: turned off only once the orchestrator is paused."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest
from zenml.client import Client
from zenml.models import ScheduleRequest, ScheduleResponse

from tests.zenml_ext.pausers.vertex_fake import LOCATION, PROJECT, FakeVertex
from zenbatch.errors import SchedulePauseError
from zenbatch.zenml_ext.pausers import pause_schedule

pytestmark = pytest.mark.pipeline
CONFIG = {"project": PROJECT, "location": LOCATION}


@pytest.fixture
def stored_schedule(zenml_store: Path) -> ScheduleResponse:
    """A schedule record straight in the store: no pipeline, snapshot or orchestrator needed."""
    client = Client()
    return client.zen_store.create_schedule(
        ScheduleRequest(
            name=f"loader-{uuid4().hex[:8]}",
            active=True,
            cron_expression="*/5 * * * *",
            orchestrator_id=None,
            pipeline_id=None,
            project=client.active_project.id,
        )
    )


def stored_flag(schedule: ScheduleResponse) -> bool:
    return Client().get_schedule(schedule.id).active


def test_vertex_flag_is_turned_off_after_the_vertex_pause(vertex: FakeVertex, stored_schedule: ScheduleResponse) -> None:
    name = vertex.add(PROJECT, LOCATION, stored_schedule.name)
    flag_at_pause: list[bool] = []
    vertex.on_pause = lambda _: flag_at_pause.append(stored_flag(stored_schedule))

    report = pause_schedule(stored_schedule, "vertex", CONFIG)

    assert flag_at_pause == [True]
    assert vertex.state(name) == "PAUSED" and stored_flag(stored_schedule) is False
    assert report.zenml_flag_flipped and report.orchestrator_paused


def test_vertex_failure_leaves_the_stored_flag_on(vertex: FakeVertex, stored_schedule: ScheduleResponse) -> None:
    vertex.add(PROJECT, LOCATION, stored_schedule.name)
    vertex.pause_status = 403

    with pytest.raises(SchedulePauseError):
        pause_schedule(stored_schedule, "vertex", CONFIG)
    assert stored_flag(stored_schedule) is True


def test_zenml_skipping_the_update_leaves_the_stored_flag_on(stored_schedule: ScheduleResponse) -> None:
    # The record has no orchestrator component, so Client().update_schedule logs and skips.
    with pytest.raises(SchedulePauseError, match="ZenML skipped the update"):
        pause_schedule(stored_schedule, "zenbatch_local")
    assert stored_flag(stored_schedule) is True
