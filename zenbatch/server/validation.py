"""Checks a batch's input file the way the provider does while the batch is ``validating``.

The file is streamed: only the custom_ids seen so far are kept, to find duplicates. Every
problem is reported with its 1-based line number, up to ``MAX_REPORTED`` of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from zenbatch.jsonl import numbered_lines
from zenbatch.server.objects import BatchErrorItem
from zenbatch.templates import canonical_endpoint
from zenbatch.tokens import TokenCounter

MAX_REPORTED = 500


def iter_input_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, raw line)`` for each non-blank line; numbers count blank lines too."""
    with open(path, "rb") as handle:
        yield from numbered_lines(handle)


@dataclass
class ValidationOutcome:
    """What checking a file found: how many requests, their model and prompt tokens, and every problem."""

    total: int = 0
    model: str | None = None
    prompt_tokens: int = 0
    errors: list[BatchErrorItem] = field(default_factory=list)
    more_errors: int = 0

    def add(self, code: str, message: str, line: int | None, param: str | None = None) -> None:
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(BatchErrorItem(code=code, message=message, param=param, line=line))
        else:
            self.more_errors += 1

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_file(path: Path, endpoint: str, max_requests: int, *, count_tokens: bool = False) -> ValidationOutcome:
    """Check every line of a batch input file against the batch's endpoint; with ``count_tokens``,
    add up its prompt tokens (with zenbatch's own counter, so client and server agree)."""
    outcome = ValidationOutcome()
    counter: TokenCounter | None = None
    expected_url = canonical_endpoint(endpoint)
    seen: set[str] = set()
    for number, raw in iter_input_lines(path):
        outcome.total += 1
        if outcome.total > max_requests:
            outcome.add(
                "too_many_tasks",
                f"The input file has more than {max_requests:,} requests; split it into several batches.",
                number,
            )
            return outcome
        body = _check_line(raw, number, expected_url, endpoint, seen, outcome)
        if count_tokens and body is not None and outcome.ok:
            counter = counter or TokenCounter(outcome.model or "")
            outcome.prompt_tokens += counter.count_body(expected_url, body)
    if outcome.total == 0:
        outcome.add("empty_file", "The input file is empty; it must hold at least one request line.", None)
    return outcome


def _check_line(raw: bytes, number: int, expected_url: str, endpoint: str, seen: set[str], outcome: ValidationOutcome) -> dict[str, Any] | None:
    """Check one line; its body when it has one."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        outcome.add("invalid_json_line", f"This line is not parseable as valid JSON: {exc}.", number)
        return None
    if not isinstance(record, dict):
        outcome.add("invalid_json_line", "This line is not a JSON object.", number)
        return None
    custom_id = record.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        outcome.add("invalid_request", "Missing required parameter 'custom_id' (a non-empty string).", number, "custom_id")
    elif custom_id in seen:
        message = f"The custom_id {custom_id!r} is used by more than one request; custom_ids must be unique."
        outcome.add("duplicate_custom_id", message, number, "custom_id")
    else:
        seen.add(custom_id)
    if record.get("method") != "POST":
        outcome.add("invalid_request", f"Invalid 'method' {record.get('method')!r}: only 'POST' is supported.", number, "method")
    url = record.get("url")
    if not isinstance(url, str) or not url:
        outcome.add("invalid_request", "Missing required parameter 'url'.", number, "url")
    elif canonical_endpoint(url) != expected_url:
        outcome.add("url_mismatch", f"The url {url!r} does not match the batch's endpoint {endpoint!r}.", number, "url")
    body = record.get("body")
    if not isinstance(body, dict):
        outcome.add("invalid_request", "Missing required parameter 'body' (a JSON object).", number, "body")
        return None
    model = body.get("model")
    if not isinstance(model, str) or not model:
        outcome.add("invalid_request", "Missing required parameter 'body.model'.", number, "body.model")
    elif outcome.model is None:
        outcome.model = model
    elif model != outcome.model:
        outcome.add(
            "model_mismatch",
            f"The model {model!r} differs from {outcome.model!r} used by earlier lines; a batch uses one model.",
            number,
            "body.model",
        )
    if body.get("stream") is True:
        outcome.add("invalid_request", "Streaming is not supported in batches; remove 'stream': true.", number, "body.stream")
    return body
