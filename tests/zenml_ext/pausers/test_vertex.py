"""Pausing on Vertex: the real aiplatform client against a local HTTP fake of Vertex."""

from __future__ import annotations

import pytest

from tests.zenml_ext.pausers.kit import RecordingClient, schedule_response
from tests.zenml_ext.pausers.vertex_fake import LOCATION, PROJECT, FakeVertex
from zenbatch.errors import SchedulePauseError
from zenbatch.zenml_ext.pausers import pause_schedule

CONFIG = {"project": PROJECT, "location": LOCATION}


def test_pauses_active_schedules_of_that_name_then_turns_off_the_flag(vertex: FakeVertex) -> None:
    mine = [vertex.add(PROJECT, LOCATION, "loader-every-5m"), vertex.add(PROJECT, LOCATION, "loader-every-5m")]
    other = vertex.add(PROJECT, LOCATION, "another-pipeline")
    elsewhere = vertex.add(PROJECT, "us-central1", "loader-every-5m")
    client = RecordingClient(observe=lambda: [vertex.state(name) for name in mine])
    schedule = schedule_response("loader-every-5m")

    report = pause_schedule(schedule, "vertex", CONFIG, zenml_client=client)

    assert [vertex.state(name) for name in mine] == ["PAUSED", "PAUSED"]
    assert vertex.state(other) == vertex.state(elsewhere) == "ACTIVE"
    assert client.zen_store.updates == [(schedule.id, False, ["PAUSED", "PAUSED"])]
    assert report.orchestrator_paused and report.zenml_flag_flipped and report.warning is None
    assert report.steps == [
        f"Vertex schedule {mine[0]}: paused",
        f"Vertex schedule {mine[1]}: paused",
        "ZenML schedule 'loader-every-5m': stored flag set to inactive",
    ]


def test_paused_and_completed_schedules_are_left_alone(vertex: FakeVertex) -> None:
    paused = vertex.add(PROJECT, LOCATION, "loader-every-5m", state="PAUSED")
    completed = vertex.add(PROJECT, LOCATION, "loader-every-5m", state="COMPLETED")
    client = RecordingClient()

    report = pause_schedule(schedule_response("loader-every-5m"), "vertex", CONFIG, zenml_client=client)

    assert not [request for request in vertex.requests if request[0] == "POST"]
    assert report.steps[:2] == [
        f"Vertex schedule {paused}: already paused",
        f"Vertex schedule {completed}: COMPLETED, it fires no more",
    ]
    assert report.zenml_flag_flipped and len(client.zen_store.updates) == 1


def test_a_refused_pause_raises_and_leaves_the_flag_on(vertex: FakeVertex) -> None:
    name = vertex.add(PROJECT, LOCATION, "loader-every-5m")
    vertex.pause_status = 403
    client = RecordingClient()

    with pytest.raises(SchedulePauseError) as caught:
        pause_schedule(schedule_response("loader-every-5m"), "vertex", CONFIG, zenml_client=client)

    message = str(caught.value)
    assert f"pausing Vertex schedule {name} failed: Forbidden: 403" in message
    assert "'loader-every-5m'" in message and "vertex orchestrator" in message
    assert "roles/aiplatform.user" in message and "ZenML's schedule stays active" in message
    assert vertex.state(name) == "ACTIVE" and client.zen_store.updates == []


def test_no_schedule_of_that_name_raises(vertex: FakeVertex) -> None:
    vertex.add(PROJECT, LOCATION, "another-pipeline")
    client = RecordingClient()

    with pytest.raises(SchedulePauseError, match=f"no Vertex schedule has display name 'loader-every-5m' in project {PROJECT}"):
        pause_schedule(schedule_response("loader-every-5m"), "vertex", CONFIG, zenml_client=client)
    assert client.zen_store.updates == []


def test_a_config_without_location_raises_before_any_call(vertex: FakeVertex) -> None:
    with pytest.raises(SchedulePauseError, match="no `location`"):
        pause_schedule(schedule_response("loader-every-5m"), "vertex", {"project": PROJECT}, zenml_client=RecordingClient())
    assert vertex.requests == []
