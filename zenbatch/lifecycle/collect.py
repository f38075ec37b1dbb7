"""Collecting results and resubmitting what failed for a retryable reason.

Output and error files of every terminal shard are downloaded once (kept in the job's
workdir) and parsed in attempt order, so a retry's success replaces the first failure. Rows
of a batch that failed validation are failed with its errors; rows that never came back are
missing. Retryable rows (429, 5xx, expired, missing) become new shards, attempt n+1, until
``max_attempts``; the rows that succeeded are never run again.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pandas as pd
from pydantic import BaseModel

from zenbatch.progress import Progress, silent
from zenbatch.errors import ResultsError
from zenbatch.jobs import BatchJob, JobShard, ShardStatus
from zenbatch.lifecycle.submit import Save
from zenbatch.pricing import PriceTable
from zenbatch.providers.base import BatchProvider
from zenbatch.requests import RequestChunk
from zenbatch.results import FAILED, MISSING, SUCCEEDED, ResultParser, join_results
from zenbatch.shards import iter_shard_lines, plan_shards
from zenbatch.tokens import TokenCounter


class Collection(BaseModel):
    """The state of a job's rows after a collect."""

    model_config = {"arbitrary_types_allowed": True}
    results: pd.DataFrame
    final: bool
    downloaded: list[int]


def download(job: BatchJob, provider: BatchProvider, *, save: Save, progress: Progress = silent) -> list[int]:
    """Download the output and error files of terminal shards not yet collected."""
    done = []
    folder = Path(job.workdir) / "results"
    for shard in job.shards:
        if not shard.status.is_terminal() or not shard.batch_id:
            continue
        if shard.collected and all(path.exists() for path in job.result_files(shard)):
            continue  # files kept from an earlier collect (a job loaded elsewhere downloads again)
        for kind, file_id in (("output", shard.output_file_id), ("errors", shard.error_file_id)):
            if file_id:
                provider.download(file_id, folder / f"{shard.batch_id}.{kind}.jsonl", progress)
                job.count_call("download")
        shard.collected = True
        save(job)
        done.append(shard.index)
    return done


def collect(
    job: BatchJob,
    provider: BatchProvider,
    *,
    save: Save,
    inputs: pd.DataFrame | None = None,
    table: PriceTable | None = None,
    progress: Progress = silent,
) -> Collection:
    """Download what finished and build one result row per input row, with its attempts."""
    downloaded = download(job, provider, save=save, progress=progress)
    results = results_table(job, inputs, table)
    final = is_final(job, results)
    if final and not job.collected:
        job.collected = True
        save(job)
    return Collection(results=results, final=final, downloaded=downloaded)


def results_table(job: BatchJob, inputs: pd.DataFrame | None = None, table: PriceTable | None = None) -> pd.DataFrame:
    """One row per input row from the files downloaded so far."""
    folder = Path(job.workdir) / "results"
    parser = ResultParser(structured=job.structured)
    attempts: Counter[str] = Counter()
    failed_batches: dict[str, str] = {}
    for shard in sorted(job.shards, key=lambda s: (s.attempt, s.index)):
        ids = shard.custom_ids() if shard.status != ShardStatus.PENDING else []
        attempts.update(ids if shard.batch_id else [])
        if not shard.collected or not shard.batch_id:
            continue
        for kind in ("output", "errors"):
            path = folder / f"{shard.batch_id}.{kind}.jsonl"
            if path.exists():
                try:
                    parser.feed_file(path)
                except ResultsError:
                    shard.collected = False  # download it again on the next collect
                    path.unlink()
                    raise
        if shard.status == ShardStatus.FAILED:
            reason = "; ".join(f"line {e.get('line')}: {e.get('code')}: {e.get('message')}" for e in shard.errors) or "batch failed"
            failed_batches.update({cid: reason for cid in ids})
    custom_ids = job.custom_ids()
    frame = inputs if inputs is not None else pd.DataFrame(index=range(len(custom_ids)))
    results = join_results(frame, custom_ids, parser.frame(), table=table or PriceTable.default(), pricing_model=job.pricing_model)
    if failed_batches:
        rows = results["custom_id"].isin(failed_batches.keys()) & (results["status"] == MISSING)
        results.loc[rows, "status"] = FAILED
        results.loc[rows, "error_code"] = "batch_failed"
        results.loc[rows, "error_message"] = results.loc[rows, "custom_id"].map(failed_batches)
        results.loc[rows, "retryable"] = False
    if job.cancelled:
        results.loc[results["status"] == MISSING, "retryable"] = False
    results.insert(results.columns.get_loc("retryable") + 1, "attempts", results["custom_id"].map(attempts).fillna(0).astype("int64"))
    return results


def is_final(job: BatchJob, results: pd.DataFrame) -> bool:
    """Every row has its last word: nothing pending or running, nothing left to retry."""
    if any(not s.status.is_terminal() or (s.batch_id and not s.collected) for s in job.shards):
        return False
    return not bool(retry_candidates(job, results).any())


def retry_candidates(job: BatchJob, results: pd.DataFrame) -> pd.Series:
    if job.cancelled:
        return pd.Series(False, index=results.index)
    return (results["status"] != SUCCEEDED) & results["retryable"] & (results["attempts"] < job.max_attempts)


def resubmit(job: BatchJob, results: pd.DataFrame, provider: BatchProvider, *, save: Save) -> list[JobShard]:
    """New pending shards (attempt n+1) for retryable rows whose shards have finished."""
    running = {cid for s in job.shards if not s.status.is_terminal() for cid in s.custom_ids()}
    wanted_rows = results[retry_candidates(job, results) & ~results["custom_id"].isin(running)]
    if wanted_rows.empty:
        return []
    wanted = dict(zip(wanted_rows["custom_id"], wanted_rows["attempts"]))
    attempt = int(max(wanted.values())) + 1
    lines: dict[str, bytes] = {}
    for shard in job.shards:
        for line in iter_shard_lines(shard.path):
            cid = orjson.loads(line)["custom_id"]
            if cid in wanted:
                lines[cid] = line
    order = [cid for cid in results["custom_id"] if cid in lines]
    counter = TokenCounter(job.pricing_model)
    tokens = [counter.count_body(job.endpoint, orjson.loads(lines[cid])["body"]) for cid in order]
    folder = Path(job.workdir) / "inputs" / f"attempt-{attempt}-{len(job.shards)}"
    plan = plan_shards([RequestChunk(0, order, [lines[c] for c in order], tokens)], provider.limits, out_dir=folder)
    added = []
    for planned in plan.shards:
        shard = JobShard(
            index=len(job.shards), attempt=attempt, path=planned.path or "", sha256=planned.sha256,
            requests=planned.requests, bytes=planned.bytes, prompt_tokens=planned.prompt_tokens,
        )  # fmt: skip
        job.shards.append(shard)
        added.append(shard)
    job.collected = False
    save(job)
    return added
