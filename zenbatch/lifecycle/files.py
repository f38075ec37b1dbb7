"""The provider's copies of a job's files: result files that must be fetched before they expire,
and files deleted once they are done with.

Before a terminal shard's result files are first downloaded, their expiry is asked for once and
kept on the shard. A file already expired (or gone) fails the collect with what was lost and what
to do; one expiring within a day while still not downloaded (a file that came back short, a run
that failed first) is a warning in the run and on the job's card.

Once a shard is collected, its input file is deleted (``files.delete_inputs``) and its output and
error files, stored by then in the job's state, too (``files.delete_outputs``), so files do not pile
up against the provider's caps. A deletion that fails is tried again on the next collect.
"""

from __future__ import annotations

import logging
import time

from zenbatch.errors import ProviderError, ResultsError
from zenbatch.jobs import BatchJob, JobShard
from zenbatch.providers.base import BatchProvider

log = logging.getLogger(__name__)
WARN_BEFORE = 86_400  # seconds before a result file's expiry that a shard not yet downloaded is flagged


def learn_expiry(job: BatchJob, shard: JobShard, provider: BatchProvider, file_id: str, now: float | None = None) -> None:
    """Ask once when a result file expires; raise if it has.

    Raises:
        ResultsError: the file expired or is gone at the provider.
    """
    now = time.time() if now is None else now
    try:
        expires_at = provider.file_expiry(file_id)
        job.count_call("retrieve_file")
    except ProviderError as exc:
        if exc.status_code != 404:
            raise
        raise ResultsError(_expired(job, shard, provider, file_id, gone=True)) from None
    if expires_at is not None:
        shard.results_expire_at = min(expires_at, shard.results_expire_at or expires_at)
    if shard.results_expire_at is not None and shard.results_expire_at <= now:
        raise ResultsError(_expired(job, shard, provider, file_id, gone=False))


def _expired(job: BatchJob, shard: JobShard, provider: BatchProvider, file_id: str, *, gone: bool) -> str:
    expires_at = shard.results_expire_at
    when = f"it expired at {_utc(expires_at)}" if expires_at else "it expired or was deleted"
    lifetime = provider.files.output_expires_after
    rows = shard.request_counts.completed + shard.request_counts.failed
    return (
        f"job {job.name} ({job.job_id}), shard {shard.index}: the result file {file_id} of batch {shard.batch_id} is "
        f"{'gone' if gone else 'past its expiry'} at {job.provider} ({when}), so the {rows:,} answers it held cannot be "
        f"downloaded. Cancel the job (`zenbatch cancel {job.job_id}`) to keep what it collected, submit the rest "
        "as a new job, and run the loader more often than result files live (provider.files.output_expires_after: "
        f"{f'{lifetime:,} s' if lifetime else 'the provider default'})"
    )


def expiring(job: BatchJob, now: float | None = None) -> list[str]:
    """Warnings for terminal shards whose result files are not downloaded and expire within a day."""
    now = time.time() if now is None else now
    warnings = []
    for shard in job.shards:
        stored = shard.output_sha256 or shard.error_sha256 or shard.collected
        if shard.results_expire_at is None or stored or not shard.status.is_terminal():
            continue
        left = shard.results_expire_at - now
        if left < WARN_BEFORE:
            warnings.append(
                f"shard {shard.index} (batch {shard.batch_id}): its result files expire at {_utc(shard.results_expire_at)}, "
                f"in {max(0.0, left) / 3600:.1f} h, and are not downloaded yet: run the loader before then"
            )
    return warnings


def tidy(job: BatchJob, provider: BatchProvider) -> list[str]:
    """Delete the provider's files of collected shards, as ``provider.files`` says; the ids deleted."""
    policy = provider.files
    deleted = []
    for shard in job.shards:
        if not shard.collected or shard.files_deleted or not shard.batch_id:
            continue
        wanted = ([shard.input_file_id] if policy.delete_inputs else []) + (
            [shard.output_file_id, shard.error_file_id] if policy.delete_outputs else []
        )
        try:
            for file_id in filter(None, wanted):
                if provider.delete_file(file_id):
                    deleted.append(file_id)
                job.count_call("delete_file")
        except ProviderError as exc:  # kept for the next collect: nothing is lost by waiting
            log.warning("job %s, shard %d: could not delete its files at %s yet (%s)", job.name, shard.index, job.provider, exc)
            continue
        shard.files_deleted = True
    return deleted


def _utc(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp)) if stamp else "an unknown time"
