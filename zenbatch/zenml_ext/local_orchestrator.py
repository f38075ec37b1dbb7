"""The local scheduling orchestrator: ZenML's local orchestrator, plus schedules.

ZenML's ``local`` orchestrator refuses schedules. This flavor (``zenbatch_local``) runs a scheduled
pipeline in the calling process on its cron, interval or one-off time, and keeps firing while
ZenML's stored flag of the schedule is active; the call returns once the schedule is paused
(``Client().update_schedule(id, active=False)``, which is how the loader pauses itself, exactly as
on Kubernetes), deleted, or past its end time. Unscheduled runs behave as on ``local``.

The process that runs a schedule holds an exclusive lock on a file named after it, so
:func:`schedule_is_running` tells a live schedule from one whose process ended (killed,
interrupted, machine restarted), which can then be resumed.

Register it with ``zenml orchestrator flavor register
zenbatch.zenml_ext.local_orchestrator.LocalSchedulingOrchestratorFlavor`` (``ensure_local_stack``
does this and more).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast
from uuid import UUID

from pydantic import Field
from zenml.logger import get_logger
from zenml.orchestrators.local.local_orchestrator import (
    LocalOrchestrator,
    LocalOrchestratorConfig,
    LocalOrchestratorFlavor,
)

from zenbatch.errors import ScheduleRunError
from zenbatch.zenml_ext.failures import latest_failure
from zenbatch.zenml_ext.pausers.zenml_schedule import deactivate_hint
from zenbatch.zenml_ext.ticks import Timing, next_tick

if TYPE_CHECKING:
    from zenml.models import PipelineRunResponse, PipelineSnapshotResponse, ScheduleResponse, ScheduleUpdate
    from zenml.orchestrators import SubmissionResult
    from zenml.stack import Stack

logger = get_logger(__name__)
FLAVOR = "zenbatch_local"


class LocalSchedulingOrchestratorConfig(LocalOrchestratorConfig):
    """Settings of the local scheduling orchestrator.

    Attributes:
        check_seconds: while waiting for the next tick, how often the schedule's flag is read, so
            a pause from elsewhere ends the wait promptly.
        max_consecutive_failures: the schedule stops (with an error) after this many failed runs
            in a row; a single failure is logged and the next tick runs as usual.
    """

    check_seconds: float = Field(default=2.0, gt=0)
    max_consecutive_failures: int = Field(default=3, ge=1)

    @property
    def is_schedulable(self) -> bool:
        return True


class LocalSchedulingOrchestrator(LocalOrchestrator):
    """Runs pipelines locally, and scheduled pipelines on their schedule until it is paused."""

    @property
    def config(self) -> LocalSchedulingOrchestratorConfig:
        return cast(LocalSchedulingOrchestratorConfig, self._config)  # ZenML keeps the flavor's config as its base type

    def submit_pipeline(
        self,
        snapshot: PipelineSnapshotResponse,
        stack: Stack,
        base_environment: dict[str, str],
        step_environments: dict[str, dict[str, str]],
        placeholder_run: PipelineRunResponse | None = None,
    ) -> SubmissionResult | None:
        if snapshot.schedule is None:
            self._run_once(snapshot, stack, base_environment, step_environments, placeholder_run)
        else:
            self._run_schedule(snapshot, lambda: self._run_once(snapshot, stack, base_environment, step_environments, None))
        return None

    def _run_once(
        self,
        snapshot: PipelineSnapshotResponse,
        stack: Stack,
        base_environment: dict[str, str],
        step_environments: dict[str, dict[str, str]],
        placeholder_run: PipelineRunResponse | None,
    ) -> None:
        """One run of the pipeline now: here, every step in this process, as ZenML's local orchestrator runs it."""
        super().submit_pipeline(snapshot, stack, base_environment, step_environments, placeholder_run)

    def update_schedule(self, schedule: ScheduleResponse, update: ScheduleUpdate) -> None:
        """Accepts the update: the running loop reads the stored schedule before every tick."""
        logger.info("Schedule %s: update accepted (active=%s); it applies from the next tick.", schedule.name, update.active)

    def delete_schedule(self, schedule: ScheduleResponse) -> None:
        """Accepts the deletion: the running loop ends when it no longer finds the schedule."""
        logger.info("Schedule %s: deleted; its loop ends before the next tick.", schedule.name)

    def _run_schedule(self, snapshot: PipelineSnapshotResponse, run_once: Any) -> None:
        from zenml.client import Client

        assert snapshot.schedule is not None
        schedule_id, name = snapshot.schedule.id, snapshot.schedule.name
        client = Client()
        last: dt.datetime | None = None
        failures = 0
        with _lease(schedule_id):
            while True:
                schedule = _current(client, schedule_id)
                if schedule is None or not schedule.active:
                    logger.info("Schedule %s is %s: no further runs.", name, "deleted" if schedule is None else "paused")
                    return
                tick = next_tick(timing_of(schedule), _now(), last)
                if tick is None:
                    logger.info("Schedule %s has passed its end time: no further runs.", name)
                    return
                if not self._wait_until(tick, client, schedule_id):
                    continue  # paused or deleted while waiting: the loop's head says which
                last = tick
                logger.info("Schedule %s: run at %s.", name, tick.isoformat(timespec="seconds"))
                try:
                    run_once()
                    failures = 0
                except Exception as exc:  # a failed run must not end the schedule by itself
                    failures += 1
                    found = latest_failure(exc, schedule_id=schedule_id)
                    cause = found[0] if found else f"{type(exc).__name__}: {exc}"
                    logger.error("Schedule %s: run failed (%d in a row): %s", name, failures, cause)
                    if failures >= self.config.max_consecutive_failures:
                        raise ScheduleRunError(
                            f"schedule {name!r} stopped after {failures} failed runs in a row (the last: "
                            f"{cause}). It is still active in ZenML: fix the cause, then run "
                            f"it again (zenbatch collect --schedule resumes it), or deactivate it with {deactivate_hint(name)}"
                        ) from exc

    def _wait_until(self, tick: dt.datetime, client: Any, schedule_id: UUID) -> bool:
        """Sleeps until ``tick``; False as soon as the schedule is paused or deleted meanwhile."""
        while (remaining := (tick - _now()).total_seconds()) > 0:
            time.sleep(min(remaining, self.config.check_seconds))
            schedule = _current(client, schedule_id)
            if schedule is None or not schedule.active:
                return False
        return True


def timing_of(schedule: ScheduleResponse) -> Timing:
    return Timing(
        cron_expression=schedule.cron_expression,
        interval=schedule.interval_second,
        start_time=schedule.start_time,
        end_time=schedule.end_time,
        run_once_start_time=schedule.run_once_start_time,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _current(client: Any, schedule_id: UUID) -> ScheduleResponse | None:
    try:
        schedule = client.get_schedule(schedule_id, allow_name_prefix_match=False)
    except KeyError:
        return None
    return None if schedule.is_archived else schedule


def _lease_path(schedule_id: UUID) -> Path:
    from zenml.config.global_config import GlobalConfiguration

    folder = Path(GlobalConfiguration().local_stores_path) / "zenbatch-schedules"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{schedule_id}.lock"


@contextlib.contextmanager
def _lease(schedule_id: UUID) -> Iterator[None]:
    """Holds the schedule's lock file for as long as this process runs it."""
    path = _lease_path(schedule_id)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ScheduleRunError(
                f"schedule {schedule_id} is already being run by another process (lock {path}); let that one finish, or stop it first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def schedule_is_running(schedule_id: UUID) -> bool:
    """Whether a live process is running this schedule (it holds the schedule's lock)."""
    path = _lease_path(schedule_id)
    if not path.exists():
        return False
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


class LocalSchedulingOrchestratorFlavor(LocalOrchestratorFlavor):
    """The ``zenbatch_local`` flavor: local runs, with cron, interval and one-off schedules.

    A subclass names its own flavor, config and orchestrator in the three class attributes.
    """

    FLAVOR_NAME: ClassVar[str] = FLAVOR
    CONFIG: ClassVar[type[LocalSchedulingOrchestratorConfig]] = LocalSchedulingOrchestratorConfig
    IMPLEMENTATION: ClassVar[type[LocalSchedulingOrchestrator]] = LocalSchedulingOrchestrator

    @property
    def name(self) -> str:
        return self.FLAVOR_NAME

    @property
    def docs_url(self) -> str | None:
        return None

    @property
    def sdk_docs_url(self) -> str | None:
        return None

    @property
    def config_class(self) -> type[LocalSchedulingOrchestratorConfig]:
        return self.CONFIG

    @property
    def implementation_class(self) -> type[LocalSchedulingOrchestrator]:
        return self.IMPLEMENTATION
