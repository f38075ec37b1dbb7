"""Pausing on SageMaker: the EventBridge Scheduler schedule ZenML created, in moto's emulation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.zenml_ext.pausers.kit import RecordingClient, schedule_response
from zenbatch.errors import SchedulePauseError
from zenbatch.zenml_ext.pausers import pause_schedule

REGION = "eu-west-1"
ACCOUNT = "123456789012"
SECRET = "not-a-real-secret-4f9a"


@pytest.fixture
def scheduler(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An EventBridge Scheduler client on moto, with fake credentials only."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.client("scheduler", region_name=REGION)


def schedule_as_zenml(scheduler: Any, pipeline: str, state: str = "ENABLED", **extra: Any) -> str:
    """Creates the schedule ZenML's sagemaker orchestrator creates; returns its ``trigger_url``.

    Same name (sanitised orchestrator run name), target and options as ``Pipeline.put_triggers``,
    and the metadata URL of ``SagemakerOrchestrator.generate_schedule_metadata``.
    """
    name = re.sub(r"[^a-zA-Z0-9\-]", "-", f"{pipeline}_{'5e7a0c13' * 4}")
    request = {
        "Name": name,
        "ScheduleExpression": "cron(0/5 * * * ? *)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{name}",
            "SageMakerPipelineParameters": {},
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/zenml-scheduler",
        },
        "State": state,
        "StartDate": datetime(2030, 1, 1, tzinfo=UTC),
    }
    arn = scheduler.create_schedule(**(request | extra))["ScheduleArn"]
    region, group_and_name = arn.split(":")[3], arn.split(":schedule/")[1]
    return f"https://{region}.console.aws.amazon.com/scheduler/home?region={region}#schedules/{group_and_name}"


def definition(scheduler: Any, trigger_url: str) -> dict[str, Any]:
    group, name = trigger_url.split("#schedules/")[1].split("/")
    found = scheduler.get_schedule(Name=name, GroupName=group)
    found.pop("ResponseMetadata")
    return found


HAND_EDITED = {
    "Description": "loader, every 5 minutes",
    "ScheduleExpressionTimezone": "Europe/Paris",
    "EndDate": datetime(2031, 6, 30, tzinfo=UTC),
    "ActionAfterCompletion": "NONE",
    "KmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/loader",
    "Target": {
        "Arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/loader",
        "SageMakerPipelineParameters": {"PipelineParameterList": [{"Name": "batch", "Value": "reviews"}]},
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/zenml-scheduler",
        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
    },
}


@pytest.mark.parametrize("extra", [{}, HAND_EDITED], ids=["as-zenml-created-it", "edited-by-hand"])
def test_disables_the_eventbridge_schedule_and_keeps_every_other_field(scheduler: Any, extra: dict[str, Any]) -> None:
    trigger_url = schedule_as_zenml(scheduler, "batch_loader", **extra)
    before = definition(scheduler, trigger_url)
    client = RecordingClient(observe=lambda: definition(scheduler, trigger_url)["State"])
    schedule = schedule_response("loader-every-5m", run_metadata={"trigger_url": trigger_url})

    report = pause_schedule(schedule, "sagemaker", {"region": REGION}, zenml_client=client)

    after = definition(scheduler, trigger_url)
    assert after["State"] == "DISABLED"
    changed = {"State", "LastModificationDate"}
    assert {k: v for k, v in after.items() if k not in changed} == {k: v for k, v in before.items() if k not in changed}
    # ZenML's flag was written once, after EventBridge already said DISABLED.
    assert client.zen_store.updates == [(schedule.id, False, "DISABLED")]
    assert report.orchestrator_paused and report.zenml_flag_flipped and report.warning is None
    assert report.steps == [
        f"EventBridge schedule default/{before['Name']} in {REGION}: disabled (definition otherwise unchanged)",
        "ZenML schedule 'loader-every-5m': stored flag set to inactive",
    ]


def test_an_already_disabled_schedule_is_left_alone(scheduler: Any) -> None:
    trigger_url = schedule_as_zenml(scheduler, "batch_loader", state="DISABLED")
    before = definition(scheduler, trigger_url)
    client = RecordingClient()
    schedule = schedule_response("loader-every-5m", run_metadata={"trigger_url": trigger_url})

    report = pause_schedule(schedule, "sagemaker", {"region": REGION}, zenml_client=client)

    assert definition(scheduler, trigger_url) == before
    assert report.steps[0].endswith(": already disabled")
    assert report.orchestrator_paused and report.zenml_flag_flipped
    assert [active for _, active, _ in client.zen_store.updates] == [False]


def test_a_missing_schedule_raises_and_leaves_the_flag_on(scheduler: Any) -> None:
    trigger_url = schedule_as_zenml(scheduler, "batch_loader")
    gone = trigger_url.replace("batch-loader-", "deleted-loader-")
    client = RecordingClient()
    schedule = schedule_response("loader-every-5m", run_metadata={"trigger_url": gone})
    config = {"region": REGION, "aws_access_key_id": "testing", "aws_secret_access_key": SECRET}

    with pytest.raises(SchedulePauseError) as caught:
        pause_schedule(schedule, "sagemaker", config, zenml_client=client)

    message = str(caught.value)
    assert "'loader-every-5m'" in message and "sagemaker orchestrator" in message
    assert "ResourceNotFoundException" in message and "deleted-loader-" in message
    assert "ZenML's schedule stays active" in message and "ScheduleUpdate(active=False)" in message
    assert SECRET not in message
    assert caught.value.orchestrator == "sagemaker" and not caught.value.orchestrator_paused
    assert client.zen_store.updates == []
    assert definition(scheduler, trigger_url)["State"] == "ENABLED"


def test_a_schedule_without_trigger_url_says_how_to_find_it(scheduler: Any) -> None:
    client = RecordingClient()

    with pytest.raises(SchedulePauseError, match="no `trigger_url` metadata.*aws scheduler list-schedules"):
        pause_schedule(schedule_response("loader-every-5m"), "sagemaker", {"region": REGION}, zenml_client=client)
    assert client.zen_store.updates == []
