"""Telling people when something needs them, through the stack's ZenML alerter.

Any alerter in the active stack works (ZenML's Slack or Discord flavors, or one of your own);
with none, nothing is sent. The loader posts when a job is collected (rows by status, actual
against estimated cost, a link to the run) and, as a failure hook, when one of its steps fails
(the step, the run, the error, which names each job that could not advance). A message never
holds a key: provider errors are redacted where they are raised, and everything posted is
redacted again here. A failing alerter is logged, never fails the run.
"""

from __future__ import annotations

import logging
from typing import Any

from zenbatch.jobs import BatchJob
from zenbatch.pricing import money
from zenbatch.providers.base import redact

log = logging.getLogger(__name__)
MAX_CHARS = 3_000  # Slack's text limit is 4,000; keep room for the alerter's own formatting


def post(message: str) -> bool:
    """Post ``message`` through the active stack's alerter; False when there is none or it failed."""
    from zenml.client import Client

    alerter = Client().active_stack.alerter
    if alerter is None:
        return False
    text = redact(message, [])[:MAX_CHARS]
    try:
        sent = bool(alerter.post(text))
    except Exception as exc:
        log.warning("the stack's alerter %s could not post (%s)", alerter.name, type(exc).__name__)
        return False
    if not sent:
        log.warning("the stack's alerter %s did not post the message (see its log above)", alerter.name)
    return sent


def collected(job: BatchJob, summary: dict[str, Any]) -> str:
    """The message of a collected job: rows by status, actual against estimated cost, the run."""
    estimated, actual = job.estimate.batch_cost, float(summary.get("cost_usd") or 0.0)
    share = f" ({actual / estimated:.0%} of the estimate)" if estimated else ""
    rows = ", ".join(f"{summary.get(k, 0):,} {k}" for k in ("succeeded", "failed", "missing"))
    currency = None if job.estimate.currency == "USD" else job.estimate.currency  # $ for dollars
    return (
        f"zenbatch: job {job.name} ({job.job_id}) is collected: {summary.get('rows', 0):,} rows, {rows}. "
        f"Cost {money(actual, currency)} against {money(estimated, currency)} estimated{share}. {_run_link()}"
    )


def on_loader_failure(exception: BaseException) -> None:
    """A ZenML failure hook: post which step of which run failed, and why."""
    step, run = "a step", "a loader run"
    try:
        from zenml import get_step_context

        context = get_step_context()
        step, run = context.step_run.name, context.pipeline_run.name
    except RuntimeError:
        pass
    post(f"zenbatch: {run} failed in step {step}: {type(exception).__name__}: {exception} {_run_link()}")


def _run_link() -> str:
    """The dashboard link of the current run, or its name when there is no dashboard."""
    try:
        from zenml import get_step_context
        from zenml.utils.dashboard_utils import get_run_url

        run = get_step_context().pipeline_run
    except RuntimeError:
        return ""
    url = get_run_url(run)
    return f"Run: {url}" if url else f"Run: {run.name} ({run.id})"
