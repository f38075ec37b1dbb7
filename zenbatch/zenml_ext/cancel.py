"""Cancelling a job: its open batches cancelled at the provider, its state saved as the newest version.

Nothing more is submitted for it; the next loader pass collects the rows that finished and marks
the rest failed with ``batch_cancelled``.
"""

from __future__ import annotations

from zenbatch.errors import JobStateError
from zenbatch.lifecycle import cancel
from zenbatch.zenml_ext.overview import load_job
from zenbatch.zenml_ext.providers import provider_for
from zenbatch.zenml_ext.registry import save_job_state


def cancel_job(job_id: str) -> int:
    """Cancel a job's open batches and save its state; returns how many were cancelled."""
    job = load_job(job_id)
    if job.collected:
        raise JobStateError(f"job {job_id} is already collected: nothing to cancel")
    asked = cancel(job, provider_for(job))
    save_job_state(job, collected=False)
    return len(asked)
