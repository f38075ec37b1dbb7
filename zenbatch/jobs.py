"""BatchJob: the serialisable state of one job, saved by the caller after every change.

A job is a list of shards; each shard is one input file and, once submitted, one provider
batch. Retries add shards with a higher ``attempt``. The job knows nothing of HTTP: the
lifecycle functions (``zenbatch.lifecycle``) move it forward through a provider.

The state names its files by digest and holds no copy of them: input files, result files and
results parts live in the job's work folder and, when the job has a blob store
(:mod:`zenbatch.blobs`), there too; a file missing from the work folder is fetched from the
store when it is first needed. So a saved state is small whatever the job's size.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, Field, PrivateAttr, model_validator

from zenbatch.blobs import Blobs
from zenbatch.config import ProviderConfig
from zenbatch.errors import JobStateError
from zenbatch.ledger import key_of
from zenbatch.parts import ResultPart
from zenbatch.pricing import JobEstimate
from zenbatch.shards import Shard, iter_shard_lines
from zenbatch.yaml_config import from_mapping


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
                f"the provider reported an unknown batch status {status!r}; the job state is kept, poll again later or upgrade zenbatch"
            ) from None


_IN_PROGRESS = {ShardStatus.VALIDATING, ShardStatus.IN_PROGRESS, ShardStatus.FINALIZING, ShardStatus.CANCELLING}
_TERMINAL = {ShardStatus.COMPLETED, ShardStatus.FAILED, ShardStatus.EXPIRED, ShardStatus.CANCELLED}


class EndReason(str, Enum):
    """Why a terminal shard ended."""

    COMPLETED = "completed"
    FAILED = "failed"  # the provider refused the file; ``errors`` says which lines and why
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    CANCELLED_BEFORE_SUBMISSION = "cancelled_before_submission"
    NOTHING_TO_SEND = "nothing_to_send"  # every row of the job is answered by another job

    @classmethod
    def of(cls, status: ShardStatus) -> EndReason:
        return cls(status.value)


class RequestCounts(BaseModel):
    total: int = 0
    completed: int = 0
    failed: int = 0


class JobShard(Shard):
    """One input file of a job (a planned :class:`~zenbatch.shards.Shard`) and the batch that runs it.

    Attributes:
        attempt: 1 for the first submission of these rows, n+1 for a retry.
        path: the local input file (saved relative to the job's work folder).
        homes: for a retry, the first-attempt shards its rows come from.
        input_file_id / batch_id: set as soon as the provider returns them.
        status: the last known state; ``ended`` says why a terminal shard ended.
        errors: validation errors the provider reported, with line numbers.
        not_before: unix time before which the shard must not be submitted (backoff).
        deferred: why a pending shard was not submitted yet (a full queue, a refusal), for ``status``.
        backoff_seconds: the next backoff, doubling after each token-limit refusal.
        replaced_batch_ids: earlier batches of this shard that failed and were replaced.
        output_sha256 / error_sha256: digests of the downloaded output and error files.
        downloads: how often its result files were downloaded (more than once when one came back short).
        collected: its outcomes are in the job's results parts.
        results_expire_at: when the first of its result files expires at the provider (unix
            seconds), learnt before they are downloaded.
        files_deleted: its files at the provider were deleted (or kept, by the provider's
            ``files`` settings) once it was collected.
    """

    attempt: int = 1
    path: str = ""
    homes: list[int] = Field(default_factory=list)
    input_file_id: str | None = None
    batch_id: str | None = None
    status: ShardStatus = ShardStatus.PENDING
    ended: EndReason | None = None
    request_counts: RequestCounts = Field(default_factory=RequestCounts)
    output_file_id: str | None = None
    error_file_id: str | None = None
    output_sha256: str | None = None
    error_sha256: str | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)
    not_before: float = 0.0
    deferred: str | None = None
    backoff_seconds: float = 0.0
    replaced_batch_ids: list[str] = Field(default_factory=list)
    downloads: int = 0
    collected: bool = False
    results_expire_at: int | None = None
    files_deleted: bool = False
    submitted_at: float | None = None
    finished_at: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _older_state(cls, data: Any) -> Any:
        """A state saved before typed reasons said ``terminal_reason: "failed: code, ..."``."""
        if isinstance(data, dict) and "terminal_reason" in data:
            data = dict(data)
            reason = str(data.pop("terminal_reason") or "")
            if reason:
                data.setdefault("ended", "cancelled_before_submission" if "before submission" in reason else reason.split(":")[0])
        return data


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
        polled_at: when the job's open shards were last retrieved (the provider's poll floor).
        cancelled: the user cancelled the job; nothing more is submitted.
        api_calls: calls made to the provider, by operation.
        estimate: the estimate at submission (tokens, cost at batch and realtime prices).
        provider_config: the provider settings (names of key variables and secrets, never keys).
        inputs_ref: where the input rows are kept (e.g. a dataset artifact version id).
        model_version: the model version the job's artifacts are linked to, when any.
        parts: the results parts, one per first-attempt shard collected (see :mod:`zenbatch.parts`).
        rows: the dataset's rows (sent or not); 0 in states saved before reuse, where every row was sent.
        riders_sha256: the rows not sent, answered by another job (``ledger.RIDER_COLUMNS``, Parquet).
        keys_sha256: the request keys of the rows sent (Parquet, 16 bytes a key), for later jobs to wait on.
        metadata: the user's batch metadata, merged into every batch's.
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
    polled_at: float | None = None
    api_calls: dict[str, int] = Field(default_factory=dict)
    estimate: JobEstimate = Field(default_factory=JobEstimate)
    provider_config: ProviderConfig = Field(default_factory=ProviderConfig)
    inputs_ref: str | None = None
    model_version: str | None = None
    parts: list[ResultPart] = Field(default_factory=list)
    rows: int = 0
    riders_sha256: str | None = None
    keys_sha256: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    _blobs: Blobs | None = PrivateAttr(default=None)

    @property
    def open_shards(self) -> list[JobShard]:
        return [s for s in self.shards if s.status.is_in_progress()]

    @property
    def pending_shards(self) -> list[JobShard]:
        return [s for s in self.shards if s.status == ShardStatus.PENDING]

    @property
    def blobs(self) -> Blobs | None:
        """Where the job's files are kept beside its work folder (None: the work folder only)."""
        return self._blobs

    def keep_in(self, blobs: Blobs | None) -> BatchJob:
        self._blobs = blobs
        return self

    def age_hours(self, now: float | None = None) -> float:
        """Hours since the job's first batch was submitted (0 before that)."""
        started = [s.submitted_at for s in self.shards if s.submitted_at]
        return ((time.time() if now is None else now) - min(started)) / 3600 if started else 0.0

    def status_counts(self) -> dict[str, int]:
        """Shards by status."""
        counts: dict[str, int] = {}
        for shard in self.shards:
            counts[shard.status.value] = counts.get(shard.status.value, 0) + 1
        return counts

    def enqueued_tokens(self) -> int:
        """Prompt tokens of submitted shards that have not finished (the provider's queue)."""
        return sum(s.prompt_tokens for s in self.open_shards)

    def row_range(self, shard: JobShard) -> tuple[int, int]:
        """The rows ``[start, stop)`` of the dataset a first-attempt shard stands for: its lines and the riders between them."""
        firsts = [s for s in self.shards if s.attempt == 1]
        if not self.rows:  # saved before reuse: every row was sent, in order
            start = sum(s.requests for s in firsts if s.index < shard.index)
            return start, start + shard.requests
        later = [s.first_row for s in firsts if s.index > shard.index]
        return (shard.first_row if shard.index else 0), (min(later) if later else self.rows)

    def stored_file(self, digest: str, name: str) -> Path:
        """A file of the job's inputs by digest (riders, keys): the local copy, fetched from the store when missing."""
        path = Path(self.workdir) / "inputs" / name
        if self._blobs is not None and not path.exists():
            self._blobs.get(digest, path, kind="parquet")
        return path

    def input_file(self, shard: JobShard) -> Path:
        """The shard's local input file, fetched from the blob store when it is not here."""
        path = Path(shard.path)
        if not path.is_absolute():
            path = Path(self.workdir) / path
        if self._blobs is not None and not path.exists():
            self._blobs.get(shard.sha256, path)
        return path

    def requests_of(self, shard: JobShard) -> tuple[list[str], list[str]]:
        """The custom_ids and request keys (``ledger.key_of``) in a shard's input file, in order."""
        ids, keys = [], []
        if shard.requests:
            for line in iter_shard_lines(self.input_file(shard)):
                record = orjson.loads(line)
                ids.append(record["custom_id"])
                keys.append(key_of(record))
        return ids, keys

    def result_file(self, shard: JobShard, kind: str) -> Path:
        """Where a shard's ``output`` or ``errors`` file is kept locally."""
        return Path(self.workdir) / "results" / f"{shard.batch_id}.{kind}.jsonl"

    def part_file(self, part: ResultPart) -> Path:
        return Path(self.workdir) / "parts" / f"part-{part.home:05d}-{part.batches}.parquet"

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
        """A saved state; one that does not parse is a ConfigError naming the file and each bad key."""
        try:
            return from_mapping(cls, orjson.loads(Path(path).read_bytes()), str(path))
        except FileNotFoundError:
            raise JobStateError(f"no job state at {path}") from None


Save = Callable[[BatchJob], None]  # persists a job's state; lifecycle functions call it after every change


def saved_by_caller(job: BatchJob) -> None:
    """The default ``save``: the caller persists the job once the call returns (the ZenML steps save a new version).

    Nothing is lost by not saving in between: a batch created before a crash is found again by its
    shard's sha256 in the batch metadata, and a file uploaded before it by its name.
    """
