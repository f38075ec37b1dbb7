"""Pausing a schedule on SageMaker Pipelines (an EventBridge Scheduler schedule).

ZenML's sagemaker orchestrator names the EventBridge schedule after the orchestrator run
(``<pipeline name>-<32 random hex digits>``, non-alphanumerics made hyphens) and puts it in the
``default`` group through ``Pipeline.put_triggers``; the name cannot be derived again, but ZenML
records it in the schedule's run metadata as ``trigger_url``
(``https://<region>.console.aws.amazon.com/scheduler/home?region=<region>#schedules/<group>/<name>``).
The schedule is found from that URL, and AWS credentials are built as the orchestrator builds them
(keys, profile, role to assume, else the default chain; service connectors are not used here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from zenbatch.errors import SchedulePauseError
from zenbatch.zenml_ext.pausers.report import not_paused
from zenbatch.zenml_ext.pausers.zenml_schedule import flag_off_by_hand

if TYPE_CHECKING:
    import boto3
    from zenml.models import ScheduleResponse

FLAVOR = "sagemaker"
TRIGGER_URL_KEY = "trigger_url"
DEFAULT_GROUP = "default"


def eventbridge_schedule(schedule: ScheduleResponse, config: Mapping[str, Any]) -> tuple[str, str, str]:
    """Finds the EventBridge schedule ZenML created for a ZenML schedule.

    Args:
        schedule: the ZenML schedule.
        config: the sagemaker orchestrator's config (``region`` is used if the URL has none).

    Returns:
        The group name, the schedule name and the region.

    Raises:
        SchedulePauseError: the schedule has no usable ``trigger_url`` metadata or no region.
    """
    url = schedule.run_metadata.get(TRIGGER_URL_KEY)
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or not parts.fragment.startswith("schedules/"):
        raise not_paused(
            schedule.name,
            FLAVOR,
            f"the schedule has no `{TRIGGER_URL_KEY}` metadata naming its EventBridge schedule",
            "find it with `aws scheduler list-schedules --name-prefix <pipeline name>-`, disable it "
            "with `aws scheduler update-schedule` (resend its definition with --state DISABLED), then "
            f"turn off ZenML's flag alone: {flag_off_by_hand(schedule)}",
        )
    group, _, name = parts.fragment.removeprefix("schedules/").rpartition("/")
    region = parse_qs(parts.query).get("region", [None])[0] or config.get("region")
    if not region:
        raise not_paused(
            schedule.name, FLAVOR, f"no AWS region in {url!r} nor in the orchestrator config", "set `region` on the orchestrator component"
        )
    return group or DEFAULT_GROUP, name, region


def _boto_session(config: Mapping[str, Any], region: str) -> boto3.Session:
    import boto3

    session = boto3.Session(
        aws_access_key_id=config.get("aws_access_key_id"),
        aws_secret_access_key=config.get("aws_secret_access_key"),
        region_name=region,
        profile_name=config.get("aws_profile"),
    )
    if role := config.get("aws_auth_role_arn"):
        credentials = session.client("sts").assume_role(RoleArn=role, RoleSessionName="zenbatch-schedule-pause")["Credentials"]
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )
    return session


def disabled_definition(client: Any, current: Mapping[str, Any]) -> dict[str, Any]:
    """The UpdateSchedule request that keeps a schedule's definition and only disables it.

    UpdateSchedule replaces the whole definition (an omitted optional field is cleared), so every
    field GetSchedule returned that UpdateSchedule accepts is sent back unchanged. The accepted
    fields come from botocore's service model, so fields added to the API later are kept too.
    """
    accepted = client.meta.service_model.operation_model("UpdateSchedule").input_shape.members
    request = {key: value for key, value in current.items() if key in accepted}
    request["State"] = "DISABLED"
    return request


def pause_sagemaker(schedule: ScheduleResponse, config: Mapping[str, Any]) -> list[str]:
    """Disables the EventBridge schedule that starts the SageMaker pipeline.

    Args:
        schedule: the ZenML schedule.
        config: the sagemaker orchestrator's config.

    Returns:
        The step lines for the report.

    Raises:
        SchedulePauseError: the EventBridge schedule is unknown, missing, or a call failed.
    """
    group, name, region = eventbridge_schedule(schedule, config)
    where = f"EventBridge schedule {group}/{name} in {region}"
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError as exc:
        raise not_paused(schedule.name, FLAVOR, f"boto3 is not installed ({exc})", "pip install 'zenbatch[sagemaker]'") from exc

    def failed(action: str, exc: Exception) -> SchedulePauseError:
        code = exc.response["Error"].get("Code", "") if isinstance(exc, ClientError) else ""
        if code == "ResourceNotFoundException":
            todo = (
                "if the EventBridge schedule was deleted by hand, turn off ZenML's flag alone: "
                f"{flag_off_by_hand(schedule)}; otherwise check the schedule's `{TRIGGER_URL_KEY}` metadata"
            )
        else:
            todo = (
                "check that this run's AWS credentials allow scheduler:GetSchedule, "
                "scheduler:UpdateSchedule and iam:PassRole on the schedule's role, then rerun"
            )
        return not_paused(schedule.name, FLAVOR, f"{action} {where} failed: {type(exc).__name__}: {exc}", todo)

    try:
        client = _boto_session(config, region).client("scheduler", region_name=region)
        current = client.get_schedule(Name=name, GroupName=group)
    except (BotoCoreError, ClientError) as exc:
        raise failed("reading", exc) from exc
    if current.get("State") == "DISABLED":
        return [f"{where}: already disabled"]
    try:
        client.update_schedule(**disabled_definition(client, current))
        state = client.get_schedule(Name=name, GroupName=group).get("State")
    except (BotoCoreError, ClientError) as exc:
        raise failed("disabling", exc) from exc
    if state != "DISABLED":
        raise not_paused(schedule.name, FLAVOR, f"{where} is {state} after the update", "disable it in the EventBridge Scheduler console and rerun")
    return [f"{where}: disabled (definition otherwise unchanged)"]
