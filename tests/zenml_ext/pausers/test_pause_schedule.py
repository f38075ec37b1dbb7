"""pause_schedule's choice per orchestrator flavor, and what it does for the ones it cannot pause."""

from __future__ import annotations

import pytest

from tests.zenml_ext.pausers.kit import RecordingClient, schedule_response
from zenbatch.errors import SchedulePauseError
from zenbatch.zenml_ext.pausers import pause_schedule


@pytest.mark.parametrize("flavor", ["kubernetes", "zenbatch_local"])
def test_orchestrators_with_schedule_updates_are_paused_through_zenml(flavor: str) -> None:
    client = RecordingClient()
    schedule = schedule_response("loader-every-5m")

    report = pause_schedule(schedule, flavor, zenml_client=client)

    # One Client().update_schedule: it updates the orchestrator, then writes the flag itself.
    assert client.client_updates == [(schedule.id, False)] and client.zen_store.updates == []
    assert report.orchestrator == flavor and report.orchestrator_paused and report.zenml_flag_flipped
    assert report.warning is None and len(report.steps) == 1


def test_an_orchestrator_failure_inside_zenml_is_reported_with_what_to_do() -> None:
    client = RecordingClient(update_error=RuntimeError("(403) cronjobs.batch is forbidden"))

    with pytest.raises(SchedulePauseError) as caught:
        pause_schedule(schedule_response("loader-every-5m"), "kubernetes", zenml_client=client)

    message = str(caught.value)
    assert "'loader-every-5m' was not paused on the kubernetes orchestrator" in message
    assert "RuntimeError: (403) cronjobs.batch is forbidden" in message
    assert "zenml pipeline schedule deactivate loader-every-5m" in message


def test_an_update_zenml_skipped_is_not_reported_as_a_pause() -> None:
    client = RecordingClient(update_skipped=True)

    with pytest.raises(SchedulePauseError, match="ZenML skipped the update"):
        pause_schedule(schedule_response("loader-every-5m"), "zenbatch_local", zenml_client=client)


@pytest.mark.parametrize("flavor", ["airflow", "local"])
def test_other_orchestrators_change_nothing_and_say_how_to_pause_by_hand(flavor: str) -> None:
    client = RecordingClient()
    schedule = schedule_response("loader-every-5m")

    report = pause_schedule(schedule, flavor, {"anything": "ignored"}, zenml_client=client)

    assert client.client_updates == [] and client.zen_store.updates == []
    assert not report.orchestrator_paused and not report.zenml_flag_flipped
    assert report.warning is not None
    assert "'loader-every-5m' is still firing" in report.warning and f"{flavor!r} orchestrator" in report.warning
    assert f"UUID('{schedule.id}')" in report.warning and "ScheduleUpdate(active=False)" in report.warning
