"""Schedules on the active stack: the loader's (it pauses itself), and a recurring submit's.

A schedule of the same name that is paused, or whose local process ended, is replaced.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from zenbatch.config import JobConfig
from zenbatch.errors import ConfigError, JobStateError
from zenbatch.yaml_config import load_yaml
from zenbatch.zenml_ext.failures import raise_run_failure
from zenbatch.zenml_ext.pausers.zenml_schedule import deactivate_hint
from zenbatch.zenml_ext.run_configs import derived_config, pipeline_config

DEFAULT_NAME = "zenbatch-loader"


def run_loader(
    config: str | Path | None = None,
    *,
    name: str | None = None,
    interval_seconds: int | None = None,
    cron: str | None = None,
    end_time: dt.datetime | None = None,
) -> str:
    """Schedule the loader; on the local scheduling orchestrator this returns once it paused itself.

    A paused schedule of the same name from an earlier job is replaced, and so is an active one
    of the local scheduling orchestrator whose process ended (killed or interrupted): the new
    loader resumes its work. Any other active one means a loader is already running, and nothing
    new is scheduled.

    Returns:
        The schedule's name.
    """
    from zenbatch.zenml_ext.pipelines.loader import loader_pipeline

    path = pipeline_config("loader", config)
    settings = dict(load_yaml(path).get("schedule") or {})
    name = name or settings.pop("name", None) or DEFAULT_NAME
    settings.pop("name", None)
    return _schedule(loader_pipeline, path, name, settings, interval_seconds=interval_seconds, cron=cron, end_time=end_time)


def run_submit_schedule(
    job: JobConfig,
    config: str | Path | None = None,
    *,
    name: str | None = None,
    interval_seconds: int | None = None,
    cron: str | None = None,
    end_time: dt.datetime | None = None,
) -> str:
    """Submit ``job`` on a schedule: every run reads the dataset as it is then and sends only its new rows.

    A file or object-store dataset is read at each run, and an artifact dataset without a
    pinned version is its latest version at each run; rows answered or in flight are not sent
    again (see :mod:`zenbatch.ledger`), and a run with nothing new creates no batch. The loader
    collects what the runs open. On the local scheduling orchestrator this returns after
    ``end_time``; elsewhere the schedule runs on the orchestrator.
    """
    from zenbatch.zenml_ext.pipelines.submit import submit_pipeline

    if not interval_seconds and not cron:
        raise ConfigError("a submit schedule needs --interval SECONDS or --cron EXPRESSION (e.g. '0 2 * * *' for 02:00 nightly)")
    path = pipeline_config("submit", config)
    return _schedule(submit_pipeline, path, name or f"zenbatch-submit-{job.name}", {}, interval_seconds=interval_seconds,
                     cron=cron, end_time=end_time, parameters={"job": job.model_dump(mode="json")})  # fmt: skip


def _schedule(
    pipeline: Any,
    path: Path,
    name: str,
    settings: dict[str, Any],
    *,
    interval_seconds: int | None,
    cron: str | None,
    end_time: dt.datetime | None,
    parameters: dict[str, Any] | None = None,
) -> str:
    from zenml.client import Client
    from zenml.config.schedule import Schedule

    client = Client()
    orchestrator = client.active_stack.orchestrator
    if not orchestrator.config.is_schedulable:
        raise ConfigError(
            f"the active stack's orchestrator {orchestrator.name!r} (flavor {orchestrator.flavor}) cannot run "
            "schedules: `zenbatch init` registers and activates the local scheduling stack, or switch to a "
            "Kubernetes, Vertex AI or SageMaker stack (`zenbatch init --configs` lists their loader configs)"
        )
    _replace_stale(client, name)
    if cron:
        settings = {"cron_expression": cron}
    elif interval_seconds:
        settings = {"interval_second": interval_seconds}
    if "interval_second" in settings and "start_time" not in settings:
        # An interval needs a start; "from now" is what a config file cannot say.
        settings["start_time"] = dt.datetime.now(dt.UTC)
    if not settings:
        settings = {"interval_second": 60, "start_time": dt.datetime.now(dt.UTC)}
    if end_time is not None:  # give up then, collected or not (the jobs stay open for a later loader)
        settings["end_time"] = end_time
    with derived_config(path, parameters, drop=("schedule",)) as run_config:
        try:
            pipeline.with_options(config_path=run_config, schedule=Schedule(name=name, **settings))()
        except RuntimeError as exc:  # a run failed on a schedule that runs here (ScheduleRunError passes through)
            raise_run_failure(pipeline.name, exc)
    return name


def _replace_stale(client: Any, name: str) -> None:
    for existing in client.list_schedules(name=name).items:
        if existing.active and not _abandoned_locally(existing):
            raise JobStateError(
                f"the schedule {name!r} is active: it is running already (a loader pauses itself once no job "
                f"is open); wait for it, or deactivate it with {deactivate_hint(name)}"
            )
        client.delete_schedule(existing.id)


def _abandoned_locally(schedule: Any) -> bool:
    """An active schedule run in process (local scheduling or rehearsal orchestrator) whose process has ended."""
    from zenml.client import Client
    from zenml.enums import StackComponentType

    from zenbatch.zenml_ext.local_orchestrator import FLAVOR, schedule_is_running
    from zenbatch.zenml_ext.rehearsal_orchestrator import FLAVOR as REHEARSAL_FLAVOR

    orchestrator_id = schedule.orchestrator_id
    if orchestrator_id is None:
        return False
    try:
        component = Client().get_stack_component(StackComponentType.ORCHESTRATOR, orchestrator_id)
    except KeyError:
        return False
    return component.flavor_name in (FLAVOR, REHEARSAL_FLAVOR) and not schedule_is_running(schedule.id)
