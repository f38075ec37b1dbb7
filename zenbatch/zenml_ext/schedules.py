"""The scheduled loader: set its schedule on the active stack, replacing a paused or abandoned one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from zenbatch.errors import ConfigError, JobStateError
from zenbatch.templates import load_yaml
from zenbatch.zenml_ext.failures import raise_run_failure
from zenbatch.zenml_ext.pausers.zenml_schedule import deactivate_hint
from zenbatch.zenml_ext.run_configs import derived_config, pipeline_config

DEFAULT_NAME = "zenbatch-loader"


def run_loader(config: str | Path | None = None, *, name: str | None = None, interval_seconds: int | None = None,
               cron: str | None = None, end_time: dt.datetime | None = None) -> str:
    """Schedule the loader; on the local scheduling orchestrator this returns once it paused itself.

    A paused schedule of the same name from an earlier job is replaced, and so is an active one
    of the local scheduling orchestrator whose process ended (killed or interrupted): the new
    loader resumes its work. Any other active one means a loader is already running, and nothing
    new is scheduled.

    Returns:
        The schedule's name.
    """
    from zenml.client import Client
    from zenml.config.schedule import Schedule

    from zenbatch.zenml_ext.pipelines.loader import loader_pipeline

    path = pipeline_config("loader", config)
    client = Client()
    orchestrator = client.active_stack.orchestrator
    if not orchestrator.config.is_schedulable:
        raise ConfigError(
            f"the active stack's orchestrator {orchestrator.name!r} (flavor {orchestrator.flavor}) cannot run "
            "schedules: `zenbatch init` registers and activates the local scheduling stack, or switch to a "
            "Kubernetes, Vertex AI or SageMaker stack (`zenbatch init --configs` lists their loader configs)"
        )
    settings = dict(load_yaml(path).get("schedule") or {})
    name = name or settings.pop("name", None) or DEFAULT_NAME
    settings.pop("name", None)
    _replace_stale(client, name)
    if cron:
        settings = {"cron_expression": cron}
    elif interval_seconds:
        settings = {"interval_second": interval_seconds}
    if "interval_second" in settings and "start_time" not in settings:
        # An interval needs a start; "from now" is what a config file cannot say.
        settings["start_time"] = dt.datetime.now(dt.timezone.utc)
    if not settings:
        settings = {"interval_second": 60, "start_time": dt.datetime.now(dt.timezone.utc)}
    if end_time is not None:  # give up then, collected or not (the jobs stay open for a later loader)
        settings["end_time"] = end_time
    with derived_config(path, drop=("schedule",)) as run_config:
        try:
            loader_pipeline.with_options(config_path=run_config, schedule=Schedule(name=name, **settings))()
        except RuntimeError as exc:  # a run failed on a schedule that runs here (ScheduleRunError passes through)
            raise_run_failure("loader_pipeline", exc)
    return name


def _replace_stale(client: Any, name: str) -> None:
    for existing in client.list_schedules(name=name).items:
        if existing.active and not _abandoned_locally(existing):
            raise JobStateError(
                f"the schedule {name!r} is active: a loader is already running; wait for it to pause "
                f"itself, or deactivate it with {deactivate_hint(name)}"
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
