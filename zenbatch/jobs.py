"""BatchJob: the serialisable state of one job, saved by the caller after every change.

A job is a list of shards; each shard is one input file and, once submitted, one provider
batch. Retries add shards with a higher ``attempt``. The job knows nothing of HTTP: the
lifecycle functions (``zenbatch.lifecycle``) move it forward through a provider.
"""

from __future__ import annotations

import os
import time
import uuid
from enum import Enum
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, Field

from zenbatch.errors import JobStateError
from zenbatch.shards import iter_shard_lines


class ShardStatus(str, Enum):
    """A shard's state: the provider's batch statuses plus ``pending`` (not yet submitted)."""

    PENDING = "pending"
    VALIDATING = "validating"
    IN_PROGRESS = "in_progress"
    FINALIZING = "finalizing"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"

    def is_in_progress(self) -> bool:
        """Submitted and not finished: poll it."""
        return self in _IN_PROGRESS

    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @classmethod
    def from_provider(cls, status: str) -> ShardStatus:
        try:
            return cls(status)
        except ValueError:
            raise JobStateError(
                f"the provider reported an unknown batch status {status!r}; the job state is kept, "
                "poll again later or upgrade zenbatch"
            ) from None


_IN_PROGRESS = {ShardStatus.VALIDATING, ShardStatus.IN_PROGRESS, ShardStatus.FINALIZING, ShardStatus.CANCELLING}
_TERMINAL = {ShardStatus.COMPLETED, ShardStatus.FAILED, ShardStatus.EXPIRED, ShardStatus.CANCELLED}


class RequestCounts(BaseModel):
    total: int = 0
    completed: int = 0
    failed: int = 0


class JobShard(BaseModel):
    """One input file of a job and the batch that runs it.

    Attributes:
        index: position in ``BatchJob.shards``.
        attempt: 1 for the first submission of these rows, n+1 for a retry.
        path: the local input file (the requests, one per line).
        sha256: the file's digest; submitted as batch metadata, the idempotency key.
        requests / prompt_tokens: what the file holds, for quota accounting.
        input_file_id / batch_id: set as soon as the provider returns them.
        status: the last known state; ``terminal_reason`` says why a terminal shard ended.
        errors: validation errors the provider reported, with line numbers.
        not_before: unix time before which the shard must not be submitted (backoff).
        backoff_seconds: the next backoff, doubling after each token-limit refusal.
        replaced_batch_ids: earlier batches of this shard that failed and were replaced.
        collected: its output and error files were downloaded and parsed.
    """

    index: int
    attempt: int = 1
    path: str
    sha256: str
    requests: int
    bytes: int = 0
    prompt_tokens: int = 0
    input_file_id: str | None = None
    batch_id: str | None = None
    status: ShardStatus = ShardStatus.PENDING
    terminal_reason: str | None = None
    request_counts: RequestCounts = Field(default_factory=RequestCounts)
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)
    not_before: float = 0.0
    backoff_seconds: float = 0.0
    replaced_batch_ids: list[str] = Field(default_factory=list)
    collected: bool = False
    submitted_at: float | None = None
    finished_at: float | None = None

    def custom_ids(self) -> list[str]:
        """The custom_ids in the shard's input file, in order."""
        return [orjson.loads(line)["custom_id"] for line in iter_shard_lines(self.path)]


class BatchJob(BaseModel):
    """Everything known about one batch job; save it after every change.

    Attributes:
        name: the job's name (batch metadata ``zenbatch_job``).
        job_id: the job's id, also in batch metadata; ``prepare_job`` derives it from the work.
        workdir: where shard inputs and downloaded results live.
        provider: openai, azure or local; endpoint and model as written in the lines.
        pricing_model: the model priced and tokenized for this job.
        structured: answers are JSON to parse.
        max_attempts: submissions per row before a retryable failure is final.
        max_enqueued_tokens: prompt tokens allowed in unfinished shards at once (quota).
        cancelled: the user cancelled the job; nothing more is submitted.
        api_calls: calls made to the provider, by operation.
        estimate: the estimate at submission (tokens, cost at batch and realtime prices).
        provider_config: the provider settings (names of key variables and secrets, never keys).
        inputs_ref: where the input rows are kept (e.g. a dataset artifact version id).
        model_version: the model version the job's artifacts are linked to, when any.
    """

    name: str
    job_id: str = Field(default_factory=lambda: uuid.uuid4().hex[:16])
    workdir: str
    provider: str
    endpoint: str
    batch_endpoint: str
    model: str
    pricing_model: str
    structured: bool = False
    max_attempts: int = Field(default=3, ge=1)
    max_enqueued_tokens: int | None = None
    completion_window: str = "24h"
    shards: list[JobShard] = Field(default_factory=list)
    cancelled: bool = False
    collected: bool = False
    created_at: float = Field(default_factory=time.time)
    api_calls: dict[str, int] = Field(default_factory=dict)
    estimate: dict[str, Any] = Field(default_factory=dict)
    provider_config: dict[str, Any] = Field(default_factory=dict)
    inputs_ref: str | None = None
    model_version: str | None = None

    @property
    def open_shards(self) -> list[JobShard]:
        return [s for s in self.shards if s.status.is_in_progress()]

    @property
    def pending_shards(self) -> list[JobShard]:
        return [s for s in self.shards if s.status == ShardStatus.PENDING]

    @property
    def is_open(self) -> bool:
        """Work remains: shards to submit, batches running, or results not yet collected."""
        return not self.collected

    def enqueued_tokens(self) -> int:
        """Prompt tokens of submitted shards that have not finished (the provider's queue)."""
        return sum(s.prompt_tokens for s in self.open_shards)

    def custom_ids(self) -> list[str]:
        """Every row's custom_id, in input order (from the first attempt's shards)."""
        return [cid for shard in self.shards if shard.attempt == 1 for cid in shard.custom_ids()]

    def result_files(self, shard: JobShard) -> list[Path]:
        """The local output and error files of a shard (those it has)."""
        folder = Path(self.workdir) / "results"
        kinds = [("output", shard.output_file_id), ("errors", shard.error_file_id)]
        return [folder / f"{shard.batch_id}.{kind}.jsonl" for kind, file_id in kinds if file_id]

    def count_call(self, operation: str) -> None:
        self.api_calls[operation] = self.api_calls.get(operation, 0) + 1

    def save(self, path: str | Path) -> None:
        """Write the job as JSON atomically (a crash leaves the old or the new file, never half)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_INDENT_2))
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> BatchJob:
        try:
            return cls.model_validate(orjson.loads(Path(path).read_bytes()))
        except FileNotFoundError:
            raise JobStateError(f"no job state at {path}") from None
