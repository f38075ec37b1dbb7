"""A one-step pipeline for orchestrator tests: it counts its runs in a file, fails when told, and
pauses its own schedule after ``pause_after`` runs as the loader does."""

from __future__ import annotations

from pathlib import Path

from zenml import get_step_context, pipeline, step
from zenml.client import Client


@step(enable_cache=False)
def count_run(counter: str, fail: bool = False, pause_after: int = 0) -> int:
    path = Path(counter)
    runs = int(path.read_text() or 0) + 1 if path.exists() else 1
    path.write_text(str(runs))
    if fail:
        raise ValueError(f"run {runs} fails on purpose")
    schedule = get_step_context().pipeline_run.schedule
    if pause_after and runs >= pause_after and schedule is not None:
        Client().update_schedule(schedule.id, active=False)
    return runs


@pipeline(enable_cache=False)
def tiny_pipeline(counter: str, fail: bool = False, pause_after: int = 0) -> None:
    count_run(counter=counter, fail=fail, pause_after=pause_after)
