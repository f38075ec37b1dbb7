"""Rows a job does not send, because another job answers the same request: joined into its parts.

A *reused* rider takes the final answer an earlier job got (its row in that job's results part),
at no cost to this job, with ``reused_from`` naming that job and batch. A *waiting* rider's
request is in flight in another open job: once that job has a final answer for it, the rider
takes it like a reused one; if that job ends without one (a retryable failure), the rider is
missing and retryable here, and this job sends it (its line is kept for that).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pandas as pd

from zenbatch.errors import JobStateError
from zenbatch.jobs import BatchJob
from zenbatch.ledger import REUSED, RIDERS_FILE, WAITING, Ledger
from zenbatch.parts import OUTCOME_COLUMNS, read_part
from zenbatch.results import MISSING
from zenbatch.shards import iter_shard_lines


def riders_in(job: BatchJob, start: int, stop: int) -> pd.DataFrame:
    """The job's riders among rows ``[start, stop)``, by position."""
    if not job.riders_sha256:
        return pd.DataFrame(columns=["position"])
    path = job.stored_file(job.riders_sha256, RIDERS_FILE)  # written a chunk at a time: a range reads only its row groups
    riders = pd.read_parquet(path, filters=[("position", ">=", start), ("position", "<", stop)])
    return riders.sort_values("position").reset_index(drop=True)


def job_requests(job: BatchJob) -> Iterator[dict[str, Any]]:
    """Every request of the job once, as parsed lines: its first-attempt shards' lines (retries
    resend the same requests) and the riders between them, answered by another job."""
    for shard in job.shards:
        if shard.attempt == 1:
            yield from (orjson.loads(line) for line in iter_shard_lines(job.input_file(shard))) if shard.requests else ()
            riders = riders_in(job, *job.row_range(shard))
            yield from (orjson.loads(line) for line in riders.get("line", []) if isinstance(line, str))


def join_riders(job: BatchJob, frame: pd.DataFrame, riders: pd.DataFrame, offset: int, ledger: Ledger) -> bool:
    """Put the riders' answers into ``frame`` (rows ``offset``...); False while one still waits for an open job."""
    riders = riders.astype({c: object for c in ("source", "job_id", "batch_id", "part", "answer_custom_id")})
    waiting = riders["source"] == WAITING
    if waiting.any():
        found = ledger.answers(riders.loc[waiting, "request_key"].tolist())
        flying = ledger.in_flight([k for k in riders.loc[waiting, "request_key"] if k not in found.index])
        if flying:
            return False
        for key, answer in found.iterrows():
            rows = waiting & (riders["request_key"] == key)
            riders.loc[rows, ["job_id", "batch_id", "part"]] = [answer["job_id"], answer["batch_id"], answer["part"]]
            riders.loc[rows, "answer_custom_id"] = answer["custom_id"]
            riders.loc[rows, "source"] = REUSED
    at = (riders["position"] - offset).to_numpy()
    answered = (riders["source"] == REUSED).to_numpy()
    for sha, group in riders[answered].groupby("part"):
        source = _part(job, str(sha)).drop_duplicates("custom_id").set_index("custom_id")
        missing = set(group["answer_custom_id"]) - set(source.index)
        if missing:
            raise JobStateError(f"the results part {str(sha)[:12]}… of job {group['job_id'].iloc[0]} lacks rows {sorted(missing)[:3]}; "
                                "submit with `reuse: false` to send these rows again")  # fmt: skip
        answers = source.loc[group["answer_custom_id"], [c for c in OUTCOME_COLUMNS if c in source.columns]]
        rows = frame.index[at[answered][riders[answered]["part"].to_numpy() == sha]]
        for column in answers.columns:
            if frame[column].dtype != answers[column].dtype:  # e.g. parsed answers into a column of missing rows
                frame[column] = frame[column].astype(object)
            frame.loc[rows, column] = answers[column].to_numpy()
        frame.loc[rows, "batch_id"] = group["batch_id"].to_numpy()
        frame.loc[rows, "reused_from"] = (group["job_id"] + ":" + group["batch_id"].fillna("")).to_numpy()
    frame.loc[frame.index[at], "cost_usd"] = 0.0
    frame.loc[frame.index[at], "attempts"] = 0
    # Waiting riders whose job ended without a final answer stay missing (retryable): this job sends them.
    frame.loc[frame.index[at[~answered]], "status"] = MISSING
    return True


def _part(job: BatchJob, sha: str) -> pd.DataFrame:
    if job.blobs is None:
        raise JobStateError("reused rows live in another job's results, in the artifact store: collect this job through ZenML")
    with job.blobs.open(sha) as handle:
        return read_part(handle, ["custom_id", *OUTCOME_COLUMNS])
