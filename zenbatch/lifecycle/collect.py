"""Collecting results a shard at a time, reconciled with the provider's counts, and planning retries.

A terminal shard's output and error files are downloaded once, kept in the job's work folder
(and its blob store), parsed, and merged into the results part of the rows' first-attempt
shard (see :mod:`zenbatch.parts`): a retry's success replaces an earlier failure, a failure
never replaces a success. Rows of a batch that failed validation are failed with its errors;
rows that never came back are missing. Only one shard's rows are in memory at a time.

Reconciling: when the files hold fewer rows than the provider counts as completed or failed,
they are downloaded again (up to ``MAX_DOWNLOADS`` times) rather than the rows retried, since
the provider bills a row it counted; rows it counted but never returned are failed as
``result_lost``, not retried. Only rows the provider never counted are retryable as missing.

Retryable rows (429, 5xx, expired, missing) become new shards, attempt n+1, until
``max_attempts``; the rows that succeeded are never run again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from zenbatch.blobs import file_digest
from zenbatch.errors import ResultsError
from zenbatch.jobs import BatchJob, JobShard, Save, ShardStatus, saved_by_caller
from zenbatch.ledger import EmptyLedger, Ledger
from zenbatch.lifecycle.files import expiring, learn_expiry, tidy
from zenbatch.lifecycle.riders import join_riders, riders_in
from zenbatch.parts import OUTCOME_COLUMNS, ResultPart, ResultsView, read_part, save_part
from zenbatch.pricing import PriceTable
from zenbatch.progress import Progress, silent
from zenbatch.providers.base import BatchProvider
from zenbatch.requests import RequestChunk
from zenbatch.results import FAILED, MISSING, SUCCEEDED, ResultParser, actual_cost, join_results
from zenbatch.shards import iter_shard_lines, plan_shards
from zenbatch.tokens import TokenCounter

InputRows = Callable[[int, int], pd.DataFrame]  # rows [start, stop) of the job's input, in input order
MAX_DOWNLOADS = 3
RESULT_LOST = "result_lost"


class Collection(BaseModel):
    """What a collect did, and the job's results so far.

    Attributes:
        final: every row has its last word.
        downloaded: shards whose files were downloaded from the provider now.
        downloaded_bytes: their bytes.
        merged: shards whose outcomes went into the results parts now.
        short: shards whose files held fewer rows than the provider counted (downloaded again next time).
        waiting: finished shards with rows another open job still answers (merged once it has).
        expiring: warnings for result files not downloaded yet that expire within a day.
        deleted_files: the provider's files deleted now, their shards collected.
        results: the results parts, read lazily.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    final: bool
    downloaded: list[int] = Field(default_factory=list)
    downloaded_bytes: int = 0
    merged: list[int] = Field(default_factory=list)
    short: list[int] = Field(default_factory=list)
    waiting: list[int] = Field(default_factory=list)
    expiring: list[str] = Field(default_factory=list)
    deleted_files: list[str] = Field(default_factory=list)
    results: ResultsView


def collect(
    job: BatchJob,
    provider: BatchProvider,
    *,
    save: Save = saved_by_caller,
    inputs: pd.DataFrame | InputRows | None = None,
    table: PriceTable | None = None,
    progress: Progress = silent,
    ledger: Ledger | None = None,
) -> Collection:
    """Download what finished, merge it into the results parts, and say whether the job is final.

    ``ledger`` tells whether rows waiting for another job's answer can be joined yet.
    """
    rows = _input_rows(inputs)
    table = table or PriceTable.default()
    collection = Collection(final=False, results=results_view(job))
    for shard in sorted(job.shards, key=lambda s: (s.attempt, s.index)):
        if shard.collected or not shard.status.is_terminal():
            continue
        if shard.batch_id:
            collection.downloaded_bytes += _download(job, shard, provider, progress, collection)
        parser = _parse(job, shard)
        if parser is not None and _short(shard, parser) and shard.downloads < MAX_DOWNLOADS:
            _discard(job, shard)
            collection.short.append(shard.index)
            save(job)
            continue
        if not _merge(job, shard, parser, rows, table, ledger or EmptyLedger()):
            collection.waiting.append(shard.index)
            continue
        shard.collected = True
        collection.merged.append(shard.index)
        save(job)
    collection.expiring = expiring(job)
    collection.deleted_files = tidy(job, provider)
    if collection.deleted_files:
        save(job)
    collection.final = is_final(job)
    if collection.final and not job.collected:
        job.collected = True
        save(job)
    collection.results = results_view(job)
    return collection


def results_view(job: BatchJob) -> ResultsView:
    """The job's results parts, in input order (local copies where they are here, else the store's)."""
    parts = sorted(job.parts, key=lambda p: p.home)
    blobs = job.blobs
    paths = []
    for part in parts:
        local = job.part_file(part)
        paths.append(str(local) if local.exists() or blobs is None else blobs.path(part.sha256, "parquet"))
    files = blobs.files if blobs is not None else None
    return ResultsView(paths, parts, files=files, estimate=job.estimate)


def is_final(job: BatchJob) -> bool:
    """Every row has its last word: nothing pending or running, every part written, nothing left to retry."""
    if any(not s.status.is_terminal() or not s.collected for s in job.shards):
        return False
    return job.cancelled or not any(p.retry_candidates for p in job.parts)


# downloading ------------------------------------------------------------------------------------


def _download(job: BatchJob, shard: JobShard, provider: BatchProvider, progress: Progress, collection: Collection) -> int:
    """Make the shard's result files local: from the blob store when stored, else from the provider."""
    fetched = 0
    kinds = [("output", shard.output_file_id, "output_sha256"), ("errors", shard.error_file_id, "error_sha256")]
    for kind, file_id, digest_field in kinds:
        if not file_id:
            continue
        path = job.result_file(shard, kind)
        digest = getattr(shard, digest_field) or (job.blobs.named(_stored_name(job, file_id)) if job.blobs else None)
        if digest and job.blobs is not None and job.blobs.has(digest):
            job.blobs.fetch(digest, path)
            setattr(shard, digest_field, digest)
            continue
        if digest and path.exists():
            continue
        learn_expiry(job, shard, provider, file_id)
        provider.download(file_id, path, progress)
        job.count_call("download")
        fetched += path.stat().st_size
        digest = file_digest(path)
        setattr(shard, digest_field, digest)
        if job.blobs is not None:
            job.blobs.put(path, digest)
            job.blobs.name(_stored_name(job, file_id), digest)  # found by a successor of a step that crashes now
    if fetched:
        shard.downloads += 1
        collection.downloaded.append(shard.index)
    return fetched


def _parse(job: BatchJob, shard: JobShard) -> ResultParser | None:
    if not shard.batch_id:
        return None
    parser = ResultParser(structured=job.structured)
    for kind, file_id in (("output", shard.output_file_id), ("errors", shard.error_file_id)):
        if not file_id:
            continue
        path = job.result_file(shard, kind)
        try:
            parser.feed_file(path)
        except ResultsError:
            _discard(job, shard)  # download it again on the next collect
            raise
    return parser


def _short(shard: JobShard, parser: ResultParser) -> bool:
    """The files hold fewer rows than the provider counts as completed or failed."""
    counts = shard.request_counts
    return len(parser.frame()) < counts.completed + counts.failed


def _discard(job: BatchJob, shard: JobShard) -> None:
    for kind, file_id in (("output", shard.output_file_id), ("errors", shard.error_file_id)):
        job.result_file(shard, kind).unlink(missing_ok=True)
        if job.blobs is not None and file_id:
            job.blobs.forget(_stored_name(job, file_id))
    shard.output_sha256 = shard.error_sha256 = None


def _stored_name(job: BatchJob, file_id: str) -> str:
    return f"{job.provider}-{file_id}"


# merging into parts -----------------------------------------------------------------------------


def _input_rows(inputs: pd.DataFrame | InputRows | None) -> InputRows:
    if inputs is None:
        return lambda start, stop: pd.DataFrame(index=range(stop - start))
    if isinstance(inputs, pd.DataFrame):
        frame = inputs
        return lambda start, stop: frame.iloc[start:stop]
    return inputs


def _merge(job: BatchJob, shard: JobShard, parser: ResultParser | None, rows: InputRows, table: PriceTable, ledger: Ledger) -> bool:
    """Merge a finished shard into its parts; False while its riders wait for another job."""
    ids, keys = job.requests_of(shard) if shard.batch_id or shard.attempt == 1 else ([], [])
    outcomes = parser.frame() if parser is not None else ResultParser().frame()
    if shard.attempt == 1:
        start, stop = job.row_range(shard)
        riders = riders_in(job, start, stop)
        sent = np.ones(stop - start, dtype=bool)
        sent[(riders["position"] - start).to_numpy(dtype="int64")] = False
        all_ids, all_keys = np.empty(stop - start, dtype=object), np.empty(stop - start, dtype=object)
        all_ids[sent], all_keys[sent] = ids, keys
        if len(riders):
            all_ids[~sent], all_keys[~sent] = riders["custom_id"].to_numpy(), riders["request_key"].to_numpy()
        frame = join_results(rows(start, stop), list(all_ids), outcomes, table=table, pricing_model=job.pricing_model)
        frame.insert(frame.columns.get_loc("retryable") + 1, "attempts", np.int64(1 if shard.batch_id else 0))
        frame["request_key"] = all_keys
        frame["batch_id"] = np.where(sent, shard.batch_id, None)  # type: ignore[arg-type]  # NumPy's stubs take no str-or-None scalar
        frame["reused_from"] = None
        _mark_unanswered(job, shard, frame, (frame["status"] == MISSING) & sent, parser)
        if len(riders) and not join_riders(job, frame, riders, start, ledger):
            return False
        _store_part(job, shard.index, frame, batches=1)
        return True
    by_id = outcomes.set_index("custom_id")
    for home in shard.homes:
        part = next(p for p in job.parts if p.home == home)
        frame = _read_part(job, part)
        retried = frame["custom_id"].isin(ids)
        frame.loc[retried, "attempts"] += 1
        better = retried & frame["custom_id"].isin(by_id.index) & (frame["status"] != SUCCEEDED)
        if better.any():
            new = by_id.loc[frame.loc[better, "custom_id"], [c for c in OUTCOME_COLUMNS if c in by_id.columns]]
            for column in new.columns:
                frame.loc[better, column] = new[column].to_numpy()
            frame.loc[better, "cost_usd"] = actual_cost(frame.loc[better], table, job.pricing_model)
            frame.loc[better, "batch_id"] = shard.batch_id
        _mark_unanswered(job, shard, frame, retried & (frame["status"] == MISSING), parser)
        _store_part(job, home, frame, batches=part.batches + 1)
    return True


def _mark_unanswered(job: BatchJob, shard: JobShard, frame: pd.DataFrame, missing: pd.Series, parser: ResultParser | None) -> None:
    """Rows of ``shard`` that came back in neither file: failed with the batch, lost, or missing (retryable)."""
    if not missing.any():
        return
    if shard.status == ShardStatus.FAILED:
        reason = "; ".join(f"line {e.get('line')}: {e.get('code')}: {e.get('message')}" for e in shard.errors) or "batch failed"
        _fail(frame, missing, "batch_failed", reason)
    elif parser is not None and int(missing.sum()) > shard.request_counts.total - shard.request_counts.completed - shard.request_counts.failed:
        _fail(frame, missing, RESULT_LOST, (
            f"batch {shard.batch_id} counts this request as completed or failed, but its line was in neither the output "
            f"nor the error file after {shard.downloads} download(s); it is not retried, so it is not paid for twice: ask "
            "the provider for the batch's files"
        ))  # fmt: skip
    if job.cancelled:
        frame.loc[missing & (frame["status"] == MISSING), "retryable"] = False


def _fail(frame: pd.DataFrame, rows: pd.Series, code: str, message: str) -> None:
    frame.loc[rows, "status"] = FAILED
    frame.loc[rows, "error_code"] = code
    frame.loc[rows, "error_message"] = message
    frame.loc[rows, "retryable"] = False


def retry_candidates(job: BatchJob, frame: pd.DataFrame) -> pd.Series:
    if job.cancelled:
        return pd.Series(False, index=frame.index)
    return (frame["status"] != SUCCEEDED) & frame["retryable"] & (frame["attempts"] < job.max_attempts)


def _store_part(job: BatchJob, home: int, frame: pd.DataFrame, batches: int) -> None:
    path = job.part_file(ResultPart(home=home, sha256="", batches=batches))
    part = save_part(frame, path, job.blobs, home=home, batches=batches, candidates=retry_candidates(job, frame))
    job.parts = [p for p in job.parts if p.home != home] + [part]


def _read_part(job: BatchJob, part: ResultPart, columns: list[str] | None = None) -> pd.DataFrame:
    local = job.part_file(part)
    if local.exists():
        return read_part(local, columns)
    if job.blobs is None:
        raise ResultsError(f"the results part of shard {part.home} ({local}) is gone; collect the job again from its saved state")
    with job.blobs.open(part.sha256) as handle:
        return read_part(handle, columns)


# retries ----------------------------------------------------------------------------------------


def plan_retries(job: BatchJob, provider: BatchProvider, *, save: Save = saved_by_caller) -> list[JobShard]:
    """New pending shards (attempt n+1) for the retryable rows of parts with no retry still running."""
    busy = {home for s in job.shards if s.attempt > 1 and not s.collected for home in s.homes}
    wanted: dict[str, tuple[int, int]] = {}  # custom_id -> (home, attempts)
    for part in sorted(job.parts, key=lambda p: p.home):
        if not part.retry_candidates or part.home in busy:
            continue
        frame = _read_part(job, part, ["custom_id", "status", "retryable", "attempts"])
        chosen = frame[retry_candidates(job, frame)]
        wanted.update((cid, (part.home, int(n))) for cid, n in zip(chosen["custom_id"], chosen["attempts"]))
    if not wanted:
        return []
    attempt = max(2, max(n for _, n in wanted.values()) + 1)  # a rider sent here for the first time still goes as a retry
    lines: dict[str, bytes] = {}
    for home in sorted({home for home, _ in wanted.values()}):
        for line in iter_shard_lines(job.input_file(job.shards[home])) if job.shards[home].requests else []:
            cid = orjson.loads(line)["custom_id"]
            if cid in wanted:
                lines[cid] = line
        riders = riders_in(job, *job.row_range(job.shards[home]))
        for cid, line in zip(riders.get("custom_id", []), riders.get("line", [])):
            if cid in wanted and isinstance(line, str):
                lines[cid] = line.encode()
    order = [cid for cid in wanted if cid in lines]
    counter = TokenCounter(job.pricing_model)
    tokens = [counter.count_body(job.endpoint, orjson.loads(lines[cid])["body"]) for cid in order]
    folder = Path(job.workdir) / "inputs" / f"attempt-{attempt}-{len(job.shards)}"
    plan = plan_shards([RequestChunk(0, order, [lines[c] for c in order], tokens)], provider.limits, out_dir=folder)
    added = []
    for planned in plan.shards:
        ids = order[sum(s.requests for s in plan.shards[: planned.index]) :][: planned.requests]
        shard = JobShard(
            **planned.model_dump(exclude={"index", "path"}), index=len(job.shards), attempt=attempt,
            path=planned.path or "", homes=sorted({wanted[cid][0] for cid in ids}),
        )  # fmt: skip
        job.shards.append(shard)
        added.append(shard)
    job.collected = False
    save(job)
    return added
