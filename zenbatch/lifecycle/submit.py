"""Preparing a job and submitting its shards: idempotent and quota-aware.

Before uploading or creating, the recent batches are searched for one carrying the shard's
sha256 in its metadata (and the recent files for one with the shard's file name), so a crash
between upload, create and recording never yields a second batch or a second upload.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field

from zenbatch.batchfile import peek_batch_file
from zenbatch.blobs import file_digest
from zenbatch.config import JobConfig
from zenbatch.datasets import fetch_uri
from zenbatch.errors import ProviderError
from zenbatch.estimate import Estimate, estimate_file, estimate_job
from zenbatch.home import job_folder, local_home
from zenbatch.jobs import BatchJob, EndReason, JobShard, Save, ShardStatus, saved_by_caller
from zenbatch.ledger import KEYS_FILE, RIDERS_FILE, Ledger, Split
from zenbatch.lifecycle.backoff import TOKEN_LIMIT, back_off
from zenbatch.lifecycle.poll import record
from zenbatch.progress import Progress, silent
from zenbatch.providers.base import FILE_QUOTA, BatchInfo, BatchProvider
from zenbatch.templates import canonical_endpoint

Checkpoint = Callable[[str, JobShard], None]
METADATA_KEYS = ("zenbatch_job", "zenbatch_job_id", "zenbatch_shard", "zenbatch_attempt", "zenbatch_sha256",
                 "zenbatch_model", "zenbatch_tokens")  # fmt: skip
REUSABLE = {ShardStatus.VALIDATING, ShardStatus.IN_PROGRESS, ShardStatus.FINALIZING, ShardStatus.COMPLETED}


def prepare_job(
    config: JobConfig,
    workdir: str | Path | None,
    frame: pd.DataFrame | None = None,
    *,
    max_attempts: int = 3,
    max_enqueued_tokens: int | None = None,
    progress: Progress = silent,
    ledger: Ledger | None = None,
) -> tuple[BatchJob, Estimate]:
    """Validate, shard, price and write a job's input files; nothing is uploaded.

    ``progress`` hears how many rows were built (see :mod:`zenbatch.progress`). With a
    ``ledger`` (and reuse on in the config), rows an earlier job answered, or an open job sends,
    are not sent: they ride along and get their answer from that job (see :mod:`zenbatch.ledger`).

    ``workdir`` None puts the files in the job's own folder under ``ZENBATCH_HOME``
    (``jobs/<job_id>``), where a later load of the job finds them again.

    Raises:
        InputValidationError, LimitError, BudgetExceededError: before anything is written.
    """
    if workdir is None:
        return _prepare_in_home(config, frame, max_attempts=max_attempts, max_enqueued_tokens=max_enqueued_tokens,
                                progress=progress, ledger=ledger)  # fmt: skip
    workdir = Path(workdir)
    dialect = config.provider.dialect()
    if config.input_file is not None:
        estimate, endpoint, structured = _estimate_file(config, workdir, ledger)
        model = dialect.line_model(estimate.model or "")
        queue = config.provider.queue_limit(model, estimate.pricing_model)
    else:
        template = config.rows_template
        split = Split(ledger if config.reuses() else None, workdir / "inputs")
        estimate = estimate_job(config, frame, out_dir=workdir / "inputs", progress=progress, split=split)
        endpoint, model, structured = template.endpoint, estimate.model or template.model, template.is_structured
        queue = config.provider.queue_limit(template.model, template.pricing_model)
    shards = [JobShard(**s.model_dump(exclude={"cost", "path"}), path=s.path or "") for s in estimate.shards]
    if not shards:  # every row is answered by another job: nothing to send
        shards = [JobShard(index=0, status=ShardStatus.COMPLETED, ended=EndReason.NOTHING_TO_SEND)]
    job = BatchJob(
        name=config.name,
        workdir=str(workdir),
        provider=config.provider.kind,
        endpoint=dialect.line_url(endpoint),  # as the lines say it
        batch_endpoint=dialect.batch_endpoint(endpoint),
        model=model,
        pricing_model=estimate.pricing_model or model,
        structured=structured,
        max_attempts=max_attempts,
        max_enqueued_tokens=max_enqueued_tokens or queue,
        shards=shards,
        estimate=estimate.for_job(),
        provider_config=config.provider.model_copy(),
        metadata=config.metadata,
        rows=estimate.requests + estimate.reused + estimate.waiting,
    )
    inputs = workdir / "inputs"
    job.riders_sha256, job.keys_sha256 = file_digest(inputs / RIDERS_FILE), file_digest(inputs / KEYS_FILE)
    job.job_id = job_key(job, estimate.work)
    return job, estimate


def _estimate_file(config: JobConfig, workdir: Path, ledger: Ledger | None) -> tuple[Estimate, str, bool]:
    """The estimate of a job's existing batch file (fetched first from an object store), its endpoint, and
    whether its answers are JSON to parse."""
    source = config.input_file
    assert source is not None
    path = config.resolve(source.path)
    if isinstance(path, str):  # an object-store URI: read where the step runs
        path = fetch_uri(path, workdir / "source.jsonl")
    url, _, body = peek_batch_file(path) if path.is_file() else (None, None, {})
    split = Split(ledger if config.reuses(body) else None, workdir / "inputs")
    estimate = estimate_file(
        path, dialect=config.provider.dialect(source.base_model, body.get("model")), table=config.price_table(), base_model=source.base_model,
        expected_output_tokens=source.expected_output_tokens, budget_usd=config.budget_usd, out_dir=workdir / "inputs",
        split=split, rewrite=source.rewrite_for is not None, unchecked=source.extra_parameters,
    )  # fmt: skip
    endpoint = canonical_endpoint(url) if url is not None else None
    response_format = (body.get("response_format") or {}).get("type") if isinstance(body.get("response_format"), dict) else None
    text_format = ((body.get("text") or {}).get("format") or {}).get("type") if isinstance(body.get("text"), dict) else None
    return estimate, endpoint or "/v1/chat/completions", "json_schema" in (response_format, text_format)


def _prepare_in_home(config: JobConfig, frame: pd.DataFrame | None, **options: Any) -> tuple[BatchJob, Estimate]:
    # The id comes from the shards' bytes, so they are written first and moved into place after.
    home = local_home()
    home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".plan-", dir=home))
    try:
        job, estimate = prepare_job(config, staging, frame, **options)
        target = job_folder(job.job_id)
        target.mkdir(parents=True, exist_ok=True)
        inputs = target / "inputs"
        if inputs.exists():
            shutil.rmtree(inputs)
        (staging / "inputs").rename(inputs)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    job.workdir = str(target)
    for shard in job.shards:
        shard.path = str(inputs / Path(shard.path).name) if shard.path else ""
    return job, estimate


def job_key(job: BatchJob, work: str) -> str:
    """The job's id: the same work (name, provider, endpoint, model, every row's request) gets the same id.

    So preparing the same job again is recognisably the same job: a rerun finds the job it
    submitted before instead of opening a second one. ``work`` is the digest of every row's
    custom_id and request (``ledger.Split.digest``), whether the row is sent or answered elsewhere.
    """
    parts = [job.name, job.provider, job.provider_config.address, job.batch_endpoint, job.model, work]
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()


class SubmitReport(BaseModel):
    submitted: list[int] = Field(default_factory=list)
    reused: list[int] = Field(default_factory=list)
    deferred_quota: list[int] = Field(default_factory=list)
    deferred_backoff: list[int] = Field(default_factory=list)
    deferred_files: list[int] = Field(default_factory=list)


def shard_filename(job: BatchJob, shard: JobShard) -> str:
    """The upload's name: the job's own (two jobs may hold a shard of the same bytes; each deletes its own file)."""
    return f"zenbatch-{job.job_id}-{shard.sha256[:32]}-a{shard.attempt}.jsonl"


def submit(
    job: BatchJob,
    provider: BatchProvider,
    *,
    save: Save = saved_by_caller,
    look_back: int = 500,
    checkpoint: Checkpoint | None = None,
    now: Callable[[], float] = time.time,
) -> SubmitReport:
    """Submit every pending shard that is due and fits the model's queue.

    The queue counts the prompt tokens of every unfinished batch of the job's model at this
    provider, this job's and other zenbatch jobs' (their batch metadata says model and tokens),
    against ``job.max_enqueued_tokens``. A shard that does not fit waits for the next call; one
    bigger than the limit on its own goes when the queue is empty, so nothing waits forever.

    Args:
        save: called with the job after every change; persist it there.
        look_back: how many recent batches and files are searched for an earlier submission.
        checkpoint: called at ``uploaded``, ``created`` (before recording) and ``recorded``.
    """
    report = SubmitReport()
    if job.cancelled:
        return report
    pending = job.pending_shards
    if not pending:
        return report
    listing = list(provider.iter_batches(look_back))
    existing = _existing_batches(listing, job.job_id)
    queued = job.enqueued_tokens() + _queued_elsewhere(listing, job)
    uploaded: dict[str, str] | None = None  # recent uploads by name, listed once when the first upload is due
    for shard in pending:
        if shard.not_before > now():
            report.deferred_backoff.append(shard.index)
            continue
        found = existing.get((shard.sha256, str(shard.attempt)))
        if found is not None and found.id not in shard.replaced_batch_ids:
            record(shard, found, now())
            save(job)
            report.reused.append(shard.index)
            continue
        limit = job.max_enqueued_tokens
        if limit and queued and queued + shard.prompt_tokens > limit:
            shard.deferred = (
                f"{queued:,} of the {limit:,} enqueued tokens {job.model} may hold are taken by unfinished batches "
                f"and this shard needs {shard.prompt_tokens:,}: submitted once enough of them finish (next loader pass)"
            )
            report.deferred_quota.append(shard.index)
            continue
        try:
            if shard.input_file_id is None:
                if uploaded is None:
                    uploaded = provider.recent_files(look_back)
                    job.count_call("list_files")
                found_file = uploaded.get(shard_filename(job, shard))
                shard.input_file_id = found_file or provider.upload(job.input_file(shard), shard_filename(job, shard))
                job.count_call("upload" if found_file is None else "reuse_file")
                save(job)
                if checkpoint:
                    checkpoint("uploaded", shard)
            info = provider.create(shard.input_file_id, job.batch_endpoint, _metadata(job, shard), job.completion_window)
            job.count_call("create")
        except ProviderError as exc:
            if exc.code == TOKEN_LIMIT:
                back_off(shard, now(), f"{TOKEN_LIMIT}: the model's queue is full")
                save(job)
                report.deferred_quota.append(shard.index)
                break  # the queue is full: later shards would be refused too
            if exc.code == FILE_QUOTA and _frees_files(job, provider):
                back_off(shard, now(), "the file cap is reached; the job's collected batches free theirs")
                save(job)
                report.deferred_files.append(shard.index)
                break
            raise
        if checkpoint:
            checkpoint("created", shard)
        record(shard, info, now())
        shard.deferred = None
        queued += shard.prompt_tokens
        save(job)
        if checkpoint:
            checkpoint("recorded", shard)
        report.submitted.append(shard.index)
    return report


def _frees_files(job: BatchJob, provider: BatchProvider) -> bool:
    """Some of the job's files at the provider will be deleted as its batches are collected."""
    return provider.files.delete_inputs and any(s.batch_id and not s.files_deleted for s in job.shards)


def _metadata(job: BatchJob, shard: JobShard) -> dict[str, str]:
    """The user's metadata (``metadata:`` of the job config) and zenbatch's keys (``METADATA_KEYS``)."""
    return {
        **job.metadata,
        "zenbatch_job": job.name[:512],
        "zenbatch_job_id": job.job_id,
        "zenbatch_shard": str(shard.index),
        "zenbatch_attempt": str(shard.attempt),
        "zenbatch_sha256": shard.sha256,
        "zenbatch_model": job.model[:512],
        "zenbatch_tokens": str(shard.prompt_tokens),
    }


def _queued_elsewhere(listing: list[BatchInfo], job: BatchJob) -> int:
    """Prompt tokens of other jobs' unfinished batches of the job's model, from their metadata."""
    total = 0
    for info in listing:
        meta = info.metadata
        if info.status.is_in_progress() and meta.get("zenbatch_model") == job.model and meta.get("zenbatch_job_id") != job.job_id:
            total += int(meta["zenbatch_tokens"]) if str(meta.get("zenbatch_tokens", "")).isdigit() else 0
    return total


def _existing_batches(listing: list[BatchInfo], job_id: str) -> dict[tuple[str, str], BatchInfo]:
    """Recent batches of this job that can stand for a shard, by (sha256, attempt); newest first wins.

    The attempt is part of the key: a retry may hold exactly the lines of an earlier attempt,
    and must run again rather than reuse the batch whose rows it retries. Only the job's own
    batches count (a crash between create and record): another job's batch may have its files
    deleted once that job collected it, and answers across jobs come from the request ledger.
    """
    found: dict[tuple[str, str], BatchInfo] = {}
    for info in listing:
        key = (info.metadata.get("zenbatch_sha256", ""), info.metadata.get("zenbatch_attempt", "1"))
        if info.metadata.get("zenbatch_job_id") != job_id:
            continue
        if key[0] and info.status in REUSABLE and key not in found:
            found[key] = info
    return found
