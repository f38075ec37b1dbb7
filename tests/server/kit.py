"""Helpers for the server tests: request lines, uploads, bounded polling."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import orjson
from openai import OpenAI
from openai.types import Batch

TERMINAL = ("completed", "failed", "expired", "cancelled")


def chat_line(custom_id: str, text: str = "hello", *, model: str = "gpt-4o-mini", url: str = "/v1/chat/completions", **body: Any) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": {"model": model, "messages": [{"role": "user", "content": text}], **body}}


def jsonl(records: Iterable[Any]) -> bytes:
    return b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in records)


def chat_file(n: int, prefix: str = "req", **kwargs: Any) -> bytes:
    return jsonl(chat_line(f"{prefix}-{i}", f"message {i}", **kwargs) for i in range(n))


def submit(
    client: OpenAI, content: bytes, *, endpoint: str = "/v1/chat/completions", filename: str = "input.jsonl", metadata: dict[str, str] | None = None
) -> Batch:
    file = client.files.create(file=(filename, content), purpose="batch")
    kwargs: dict[str, Any] = {"metadata": metadata} if metadata else {}
    return client.batches.create(input_file_id=file.id, endpoint=endpoint, completion_window="24h", **kwargs)


def wait_for(client: OpenAI, batch_id: str, statuses: Iterable[str] = TERMINAL, timeout: float = 30.0, seen: list[str] | None = None) -> Batch:
    """Poll until the batch reaches one of ``statuses``; fail the test after ``timeout`` seconds."""
    wanted = set(statuses)
    deadline = time.monotonic() + timeout
    while True:
        batch = client.batches.retrieve(batch_id)
        if seen is not None and (not seen or seen[-1] != batch.status):
            seen.append(batch.status)
        if batch.status in wanted:
            return batch
        if time.monotonic() > deadline:
            raise AssertionError(f"batch {batch_id} still {batch.status!r} after {timeout}s; wanted {sorted(wanted)}")
        time.sleep(0.02)


def read_jsonl(client: OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    return [orjson.loads(line) for line in client.files.content(file_id).content.splitlines() if line.strip()]


def wait_for_counts(client: OpenAI, batch_id: str, predicate: Any, timeout: float = 30.0) -> Batch:
    """Poll until ``predicate(batch.request_counts)`` holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = client.batches.retrieve(batch_id)
        if predicate(batch.request_counts):
            return batch
        time.sleep(0.01)
    raise AssertionError(f"request_counts of {batch_id} never matched within {timeout}s")
