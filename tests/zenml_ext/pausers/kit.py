"""ZenML schedules built in memory, and a ZenML client stand-in that records flag writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

from zenml.models import ScheduleResponse, ScheduleResponseBody, ScheduleResponseMetadata, ScheduleUpdate


def schedule_response(name: str, *, active: bool = True, run_metadata: dict[str, Any] | None = None) -> ScheduleResponse:
    """A ScheduleResponse as a step gets it from ``pipeline_run.schedule``, with its metadata."""
    now = datetime(2026, 1, 5, 9, 0)
    return ScheduleResponse(
        id=uuid4(),
        name=name,
        body=ScheduleResponseBody(
            active=active,
            cron_expression="*/5 * * * *",
            is_archived=False,
            project_id=uuid4(),
            created=now,
            updated=now,
        ),
        metadata=ScheduleResponseMetadata(orchestrator_id=uuid4(), pipeline_id=uuid4(), run_metadata=run_metadata or {}),
    )


class RecordingStore:
    """Records ``update_schedule`` calls with what ``observe`` saw at that moment."""

    def __init__(self, observe: Callable[[], Any]):
        self.updates: list[tuple[UUID, bool | None, Any]] = []
        self._observe = observe

    def update_schedule(self, schedule_id: UUID, schedule_update: ScheduleUpdate) -> SimpleNamespace:
        self.updates.append((schedule_id, schedule_update.active, self._observe()))
        return SimpleNamespace(active=schedule_update.active)


class RecordingClient:
    """Stands in for ``zenml.client.Client`` through ``pause_schedule``'s ``zenml_client`` argument.

    Args:
        observe: called at each write, e.g. to read the orchestrator's state at that moment.
        update_error: raised by ``update_schedule`` (an orchestrator failing inside ZenML).
        update_skipped: ``update_schedule`` returns the schedule unchanged, as ZenML does when it
            finds no orchestrator with schedule updates.
    """

    def __init__(
        self,
        observe: Callable[[], Any] = lambda: None,
        update_error: Exception | None = None,
        update_skipped: bool = False,
    ):
        self.zen_store = RecordingStore(observe)
        self.client_updates: list[tuple[UUID, bool]] = []
        self._update_error = update_error
        self._update_skipped = update_skipped

    def update_schedule(self, name_id_or_prefix: UUID, active: bool) -> SimpleNamespace:
        self.client_updates.append((name_id_or_prefix, active))
        if self._update_error is not None:
            raise self._update_error
        return SimpleNamespace(active=not active if self._update_skipped else active)
