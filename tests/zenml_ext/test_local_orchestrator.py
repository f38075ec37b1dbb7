"""The local scheduling orchestrator through real ZenML runs on the session's isolated store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from zenbatch.errors import JobStateError, ScheduleRunError

pytestmark = pytest.mark.pipeline


@pytest.fixture(scope="module")
def strict_stack(zenml_store: Path):
    """The local scheduling stack, plus one whose orchestrator gives up after two failed runs."""
    from zenml.client import Client
    from zenml.enums import StackComponentType

    from zenbatch.zenml_ext.local_orchestrator import FLAVOR
    from zenbatch.zenml_ext.stack import ORCHESTRATOR_NAME, STACK_NAME, ensure_local_stack

    assert ensure_local_stack() == STACK_NAME
    assert ensure_local_stack() == STACK_NAME  # a second call registers nothing new
    client = Client()
    assert client.active_stack_model.name == STACK_NAME
    assert client.get_stack_component(StackComponentType.ORCHESTRATOR, ORCHESTRATOR_NAME).flavor_name == FLAVOR
    orchestrator = StackComponentType.ORCHESTRATOR
    client.create_stack_component(name="strict-local", flavor=FLAVOR, component_type=orchestrator,
                                  configuration={"max_consecutive_failures": 2, "check_seconds": 0.2})  # fmt: skip
    store = client.get_stack(STACK_NAME).components[StackComponentType.ARTIFACT_STORE][0]
    client.create_stack(name="strict-local", components={orchestrator: "strict-local", StackComponentType.ARTIFACT_STORE: str(store.id)})
    yield "strict-local"
    client.activate_stack(STACK_NAME)


def _every_second(name: str):
    from zenml.config.schedule import Schedule

    return Schedule(name=name, interval_second=1, start_time=dt.datetime.now(dt.UTC))


def test_failed_runs_do_not_end_a_schedule_until_too_many_in_a_row(strict_stack, tmp_path):
    from zenml.client import Client

    from tests.zenml_ext.tiny_pipeline import tiny_pipeline
    from zenbatch.zenml_ext.local_orchestrator import schedule_is_running

    Client().activate_stack(strict_stack)
    counter = tmp_path / "runs"
    stopped = r"stopped after 2 failed runs in a row \(the last: run .*, step count_run: run 2 fails on purpose\).*zenml pipeline schedule deactivate"
    with pytest.raises(ScheduleRunError, match=stopped):
        tiny_pipeline.with_options(schedule=_every_second("always-fails"))(counter=str(counter), fail=True)
    assert counter.read_text() == "2"
    schedule = Client().get_schedule("always-fails")
    assert schedule.active  # nobody paused it: it says so, and how to resume or deactivate
    assert not schedule_is_running(schedule.id)


def test_a_schedule_runs_on_its_interval_until_a_run_pauses_it(strict_stack, tmp_path):
    from zenml.client import Client

    from tests.zenml_ext.tiny_pipeline import tiny_pipeline
    from zenbatch.zenml_ext.stack import STACK_NAME

    Client().activate_stack(STACK_NAME)
    counter = tmp_path / "runs"
    schedule = _every_second("pauses-itself")
    tiny_pipeline.with_options(schedule=schedule)(counter=str(counter), pause_after=3)  # returns once paused

    assert counter.read_text() == "3"
    stored = Client().get_schedule("pauses-itself")
    assert stored.active is False
    runs = Client().list_pipeline_runs(schedule_id=stored.id, sort_by="asc:created", size=10).items
    assert [r.status.value for r in runs] == ["completed"] * 3
    # Ticks lie on the grid start_time + k seconds: run k starts no earlier than its tick.
    start = stored.start_time.replace(tzinfo=None)
    lags = [(run.start_time.replace(tzinfo=None) - start).total_seconds() - k for k, run in enumerate(runs)]
    assert all(lag >= -0.05 for lag in lags), lags


def test_a_loader_schedule_whose_process_ended_is_resumed_and_a_live_one_is_refused(strict_stack):
    from zenml.client import Client
    from zenml.enums import StackComponentType
    from zenml.models import ScheduleRequest

    from zenbatch.zenml_ext.local_orchestrator import _lease
    from zenbatch.zenml_ext.schedules import run_loader
    from zenbatch.zenml_ext.stack import ORCHESTRATOR_NAME, STACK_NAME

    client = Client()
    client.activate_stack(STACK_NAME)
    orchestrator = client.get_stack_component(StackComponentType.ORCHESTRATOR, ORCHESTRATOR_NAME)
    left_behind = client.zen_store.create_schedule(ScheduleRequest(
        name="orphan-loader", project=client.active_project.id, active=True, cron_expression="*/5 * * * *",
        orchestrator_id=orchestrator.id, pipeline_id=None,
    ))  # fmt: skip
    with _lease(left_behind.id), pytest.raises(JobStateError, match="is active: it is running already"):
        run_loader(name="orphan-loader", interval_seconds=1)

    # Its process is gone now: the loader replaces it, finds no open job and pauses itself.
    assert run_loader(name="orphan-loader", interval_seconds=1) == "orphan-loader"
    resumed = client.get_schedule("orphan-loader")
    assert resumed.id != left_behind.id and resumed.active is False
