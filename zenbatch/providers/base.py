"""BatchProvider: the OpenAI batch protocol, written once, over an injected ``openai`` client.

OpenAI, Azure OpenAI and the local server differ only in how the client is built (base URL,
authentication, api-version) and in their dialect and limits; those live in the factories of
this package. Every call is retried on transient failures (connection errors, 429, 5xx) with
exponential backoff and jitter, counted, and turned into zenbatch's own errors and models.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, Field, PrivateAttr

from zenbatch.errors import JobStateError, ProviderError, TransientProviderError
from zenbatch.jobs import RequestCounts, ShardStatus
from zenbatch.progress import Progress, silent
from zenbatch.providers.profile import Dialect, FilePolicy, ProviderLimits

T = TypeVar("T")
FILE_QUOTA = "quotaExceeded"  # an upload refused because the resource holds as many files as it may
_KEY_PATTERN = re.compile(r"(sk-[A-Za-z0-9_\-*]{3,}|Bearer\s+[A-Za-z0-9._\-]{8,})")  # a bearer token, not the word KEY


def redact(text: str, secrets: list[str]) -> str:
    """Remove secrets (and anything shaped like an API key or bearer token) from a text."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return _KEY_PATTERN.sub("[redacted]", text)


class RetryPolicy(BaseModel):
    """Retries of transient failures: ``attempts`` calls at most, backoff doubling from ``base``
    up to ``cap``; ``seed`` makes the jitter repeatable."""

    attempts: int = Field(default=5, ge=1)
    base: float = Field(default=0.5, ge=0)
    cap: float = Field(default=30.0, ge=0)
    seed: int | None = None
    _rng: random.Random = PrivateAttr(default_factory=random.Random)

    def model_post_init(self, context: Any) -> None:
        self._rng = random.Random(self.seed)

    def delay(self, attempt: int) -> float:
        """Full-jitter backoff before retry ``attempt`` (1-based): anywhere from 0 to the doubled bound."""
        return self._rng.uniform(0, self.bound(attempt))

    def bound(self, attempt: int) -> float:
        """The longest wait before retry ``attempt``: ``base`` doubled ``attempt - 1`` times, at most ``cap``."""
        return min(self.cap, self.base * 2.0 ** (attempt - 1))


class BatchInfo(BaseModel):
    """A provider batch, converted on arrival into the project's own model."""

    id: str
    status: ShardStatus
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    request_counts: RequestCounts = Field(default_factory=RequestCounts)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: int = 0

    @classmethod
    def from_sdk(cls, batch: Any) -> BatchInfo:
        counts = batch.request_counts
        errors = [e.model_dump() for e in (batch.errors.data or [])] if batch.errors and batch.errors.data else []
        return cls(
            id=batch.id,
            status=_status_of(batch),
            input_file_id=batch.input_file_id,
            output_file_id=batch.output_file_id,
            error_file_id=batch.error_file_id,
            request_counts=RequestCounts(total=counts.total, completed=counts.completed, failed=counts.failed) if counts else RequestCounts(),
            errors=errors,
            metadata=dict(batch.metadata or {}),
            created_at=batch.created_at or 0,
        )

    def error_codes(self) -> set[str]:
        return {str(e.get("code")) for e in self.errors if e.get("code")}


def _status_of(batch: Any) -> ShardStatus:
    try:
        return ShardStatus.from_provider(batch.status)
    except JobStateError as exc:
        raise JobStateError(f"batch {batch.id}: {exc}") from None


class BatchProvider:
    """One batch provider: its client, dialect and limits, and the calls of the protocol.

    Args:
        client: an ``openai.OpenAI`` (or ``AzureOpenAI``) client, built with ``max_retries=0``
            so that retries are counted here.
        dialect: line urls, model field and limits.
        files: the lifetimes to ask for uploads and result files, and what to delete when done.
        min_poll_seconds: the fewest seconds between two polls of a job (Azure asks for 60).
        max_age_hours: cancel a job's batches still running after this long (None: never).
        name: a label for messages (``openai``, ``azure``, ``local``).
        secrets: values to redact from every error message.
        retry: the retry policy for transient failures.
        sleep: how to wait between retries (tests pass a recorder).
    """

    def __init__(
        self,
        client: openai.OpenAI,
        dialect: Dialect,
        *,
        files: FilePolicy | None = None,
        min_poll_seconds: float = 0.0,
        max_age_hours: float | None = None,
        name: str = "openai",
        secrets: list[str] | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.client = client
        self.dialect = dialect
        self.files = files or FilePolicy()
        self.min_poll_seconds = min_poll_seconds
        self.max_age_hours = max_age_hours
        self.name = name
        self.retry = retry or RetryPolicy()
        self.calls: Counter[str] = Counter()
        self._secrets = [s for s in (secrets or []) if s]
        self._sleep = sleep

    @property
    def limits(self) -> ProviderLimits:
        return self.dialect.limits

    @property
    def expires(self) -> bool:
        """Whether unfinished batches expire after the completion window (OpenAI) or run on (Azure)."""
        return self.dialect.expires

    def upload(self, path: str | Path, filename: str) -> str:
        """Upload a batch input file, with the lifetime ``files.input_expires_after`` asks; returns its file id."""
        lifetime = self.files.input_expires_after
        expiry: dict[str, Any] = {"expires_after": {"anchor": "created_at", "seconds": lifetime}} if lifetime else {}

        def call() -> str:
            with Path(path).open("rb") as handle:
                return self.client.files.create(file=(filename, handle), purpose="batch", **expiry).id

        return self._call("upload", call)

    def create(self, input_file_id: str, endpoint: str, metadata: dict[str, str], completion_window: str = "24h") -> BatchInfo:
        """Create a batch whose result files live ``files.output_expires_after`` seconds."""
        lifetime = self.files.output_expires_after
        expiry: dict[str, Any] = {"output_expires_after": {"anchor": "created_at", "seconds": lifetime}} if lifetime else {}

        # The SDK types endpoint and window as OpenAI's literals; they are checked strings here (the ignore below).
        def call() -> Any:
            return self.client.batches.create(
                input_file_id=input_file_id, endpoint=endpoint, completion_window=completion_window,  # type: ignore[arg-type]
                metadata=metadata, **expiry,
            )  # fmt: skip

        return BatchInfo.from_sdk(self._call("create", call))

    def realtime(self, endpoint: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One request to the provider's realtime endpoint: ``(HTTP status, response body)``.

        Transient failures (429, 5xx, connection errors) are retried as every call is; a request
        the provider refuses (another 4xx) comes back as its status and error body, as a batch's
        error line would.
        """
        path = self.dialect.line_url(endpoint).removeprefix("/v1")  # relative to the client's base URL

        def call() -> tuple[int, dict[str, Any]]:
            try:
                return 200, self.client.post(path, body=body, cast_to=object)  # type: ignore[arg-type]  # raw JSON: cast_to is typed for the SDK's models
            except openai.APIStatusError as exc:
                if exc.status_code == 429 or exc.status_code >= 500:
                    raise
                detail = exc.body if isinstance(exc.body, dict) else {"message": str(exc.body)}
                return exc.status_code, {"error": detail.get("error", detail)}

        return self._call("realtime", call)

    def file_expiry(self, file_id: str) -> int | None:
        """When a file expires at the provider (unix seconds), None when it does not say.

        Raises:
            ProviderError: 404 when the file is gone (expired or deleted).
        """
        return self._call("retrieve_file", lambda: self.client.files.retrieve(file_id)).expires_at

    def delete_file(self, file_id: str) -> bool:
        """Delete a file at the provider; False when it was gone already."""
        try:
            return bool(self._call("delete_file", lambda: self.client.files.delete(file_id)).deleted)
        except ProviderError as exc:
            if exc.status_code == 404:
                return False
            raise

    def retrieve(self, batch_id: str) -> BatchInfo:
        return BatchInfo.from_sdk(self._call("retrieve", lambda: self.client.batches.retrieve(batch_id)))

    def cancel(self, batch_id: str) -> BatchInfo:
        return BatchInfo.from_sdk(self._call("cancel", lambda: self.client.batches.cancel(batch_id)))

    def iter_batches(self, look_back: int = 500) -> Iterator[BatchInfo]:
        """The most recent batches, newest first, at most ``look_back`` of them (paginated)."""
        after: str | None = None
        seen = 0
        while seen < look_back:
            limit = min(100, look_back - seen)
            kwargs: dict[str, Any] = {"limit": limit} | ({"after": after} if after else {})
            page = self._call("list_batches", partial(self.client.batches.list, **kwargs))
            data = list(page.data)
            for batch in data:
                yield BatchInfo.from_sdk(batch)
            seen += len(data)
            if not data or not page.has_more:
                return
            after = data[-1].id

    def recent_files(self, look_back: int = 500) -> dict[str, str]:
        """Uploaded batch input files by name (the newest of a name wins), at most ``look_back`` of them."""
        found: dict[str, str] = {}
        after: str | None = None
        seen = 0
        while seen < look_back:
            kwargs: dict[str, Any] = {"purpose": "batch", "limit": min(100, look_back - seen), "order": "desc"}
            kwargs |= {"after": after} if after else {}
            page = self._call("list_files", partial(self.client.files.list, **kwargs))
            data = list(page.data)
            for item in data:
                if getattr(item, "status", "processed") != "error":
                    found.setdefault(item.filename, item.id)
            seen += len(data)
            if not data or not page.has_more:
                break
            after = data[-1].id
        return found

    def download(self, file_id: str, dest: str | Path, progress: Progress = silent) -> Path:
        """Stream a file's content to ``dest`` (atomically: a partial download never stays).

        ``progress`` hears ``("downloading NAME", bytes so far, bytes in all when the server says)``.
        """
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(dest.suffix + ".part")
        what = f"downloading {dest.name}"

        def call() -> Path:
            with self.client.files.with_streaming_response.content(file_id) as response:
                length = response.headers.get("content-length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                with tmp.open("wb") as handle:
                    for block in response.iter_bytes(1 << 20):
                        handle.write(block)
                        done += len(block)
                        progress(what, done, total)
            os.replace(tmp, dest)
            return dest

        try:
            return self._call("download", call)
        finally:
            tmp.unlink(missing_ok=True)

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        for attempt in range(1, self.retry.attempts + 1):
            self.calls[operation] += 1
            try:
                return fn()
            except openai.APIStatusError as exc:
                error = self._status_error(operation, exc)
            except openai.APIConnectionError as exc:
                error = TransientProviderError(
                    redact(f"{self.name}: {operation} could not reach the server ({type(exc).__name__}: {exc})", self._secrets)
                )
            except OSError as exc:  # a reset connection while streaming a download
                error = TransientProviderError(redact(f"{self.name}: {operation} was interrupted ({exc})", self._secrets))
            if not isinstance(error, TransientProviderError) or attempt == self.retry.attempts:
                raise error from None
            self._sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable")

    def _status_error(self, operation: str, exc: openai.APIStatusError) -> ProviderError:
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = body.get("error", body) if isinstance(body, dict) else {}
        detail = detail if isinstance(detail, dict) else {}
        code = detail.get("code") or detail.get("type")
        message = detail.get("message") or str(exc)
        status = exc.status_code
        hint = {
            401: "check the API key (its environment variable or ZenML secret)",
            403: "the key has no access to batches on this resource",
            404: "the id is unknown to this provider (wrong account, region or deployment?)",
        }.get(status, "")
        if status == 404 and operation == "download":
            hint = (
                "the file is gone at this provider (result files expire, or it was deleted); the job keeps its "
                "state and the next run tries again: if it never comes back, cancel the job and submit its rows anew"
            )
        if code == "token_limit_exceeded":
            hint = "the enqueued-token quota is full: wait for running batches or lower limits.max_enqueued_tokens"
        if code == FILE_QUOTA:
            hint = (
                "the provider holds as many files as it allows (Azure: 500 uploaded without an expiry, 10,000 in all): "
                "give uploads an expiry (provider.files.input_expires_after), keep provider.files.delete_inputs and "
                "delete_outputs on so zenbatch deletes each batch's files once collected, and delete old files; "
                "shards not yet uploaded wait and are submitted once files are freed"
            )
        text = f"{self.name}: {operation} failed with HTTP {status}" + (f" ({code})" if code else "") + f": {message}"
        text = redact(text + (f"; {hint}" if hint else ""), self._secrets)
        transient = (status == 429 or status >= 500) and code != "token_limit_exceeded"
        cls = TransientProviderError if transient else ProviderError
        return cls(text, status_code=status, code=str(code) if code else None)
