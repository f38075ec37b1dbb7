"""What failed in a ZenML run, in one sentence, with the error class of the step when it is ours.

ZenML reports a failed run as ``RuntimeError: Pipeline run has failed due to failure in
step(s): ...``; the step's own exception (a budget refused, a bad row) lies in the step run's
``exception_info``. This module finds it, so users read that and get its exit code.
"""

from __future__ import annotations

import importlib
from typing import Any

from zenbatch.errors import PipelineRunError, ZenbatchError


def failure_of(run: Any, fallback: BaseException) -> tuple[str, int]:
    """The failed step of ``run`` and its error as a sentence, and the exit code that goes with it."""
    failed = [step for step in run.steps.values() if step.status.is_failed]
    if not failed:
        return f"run {run.name}: {type(fallback).__name__}: {fallback}", 1
    step = failed[0]
    info = step.exception_info
    # A step whose process died before or outside its function records no exception; an
    # orchestrator that watched the process may still say why (``step NAME: the last error``).
    said = str(fallback) if f"step {step.name}: " in str(fallback) else None
    message = (info.message if info and info.message else None) or (said and said.split(f"step {step.name}: ", 1)[1]) or "see the step's logs"
    return f"run {run.name}, step {step.name}: {message}", _exit_code(info.source if info else None)


def _exit_code(source: str | None) -> int:
    module, _, name = (source or "").rpartition(".")
    if not module.startswith("zenbatch"):
        return 1
    try:
        error = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return 1
    return int(getattr(error, "exit_code", 1)) if isinstance(error, type) and issubclass(error, ZenbatchError) else 1


def latest_failure(exc: BaseException, **filters: Any) -> tuple[str, int] | None:
    """``failure_of`` the newest run matching ``filters`` (``name=``, ``pipeline_name=``, ``schedule_id=``),
    or None when no run can be found."""
    from zenml.client import Client

    try:
        runs = Client().list_pipeline_runs(sort_by="desc:created", size=1, **filters).items
    except Exception:  # the description is a courtesy: never hide the run's own failure behind it
        return None
    return failure_of(runs[0], exc) if runs else None


def raise_run_failure(pipeline_name: str, exc: BaseException, *, run_name: str | None = None) -> None:
    """Raises :class:`PipelineRunError` for the run named ``run_name`` (else the newest run of ``pipeline_name``)."""
    found = latest_failure(exc, name=run_name) if run_name else latest_failure(exc, pipeline_name=pipeline_name)
    if found is None:
        raise PipelineRunError(f"the {pipeline_name} pipeline failed: {type(exc).__name__}: {exc}") from exc
    sentence, code = found
    raise PipelineRunError(
        f"the {pipeline_name} pipeline failed ({sentence}). The step's log is in the dashboard (zenml login --local), or run again with --verbose",
        exit_code=code,
    ) from exc
