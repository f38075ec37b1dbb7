"""Existing batch input files: read, validate and count them, streamed.

The checks mirror what the provider would refuse at validation (BATCH_API.md): invalid JSON,
missing fields, a method other than POST, a url the batch cannot target or that differs
between lines, different models in one file, ``stream: true``, duplicate custom_ids.
Given the provider's dialect, each line's url and model must be written as that provider
expects (Azure's legacy API: no ``/v1``, the batch deployment as the model); with ``rewrite``
they are rewritten so instead. Every problem is reported with its line number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from zenbatch.bodies import check_body
from zenbatch.errors import DatasetError, InputValidationError, Problem
from zenbatch.jsonl import numbered_lines
from zenbatch.providers.profile import Dialect
from zenbatch.requests import RequestChunk
from zenbatch.templates import DEFAULT_OUTPUT_TOKENS, ENDPOINTS, canonical_endpoint
from zenbatch.tokens import TokenCounter

LINE_URLS = {e for e in ENDPOINTS} | {e.removeprefix("/v1") for e in ENDPOINTS} | {"/v1/moderations"}
_OUTPUT_KEYS = ("max_completion_tokens", "max_tokens", "max_output_tokens")


class BatchFileSummary:
    """What one pass over a batch file learned: its url, model and problems."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.model: str | None = None
        self.lines = 0
        self.first_line: int | None = None  # the number of the first request line
        self.problems: list[Problem] = []


def read_batch_file(
    path: str | Path,
    *,
    counter: TokenCounter | None = None,
    base_model: str | None = None,
    expected_output_tokens: int | None = None,
    chunk_lines: int = 20_000,
    summary: BatchFileSummary | None = None,
    dialect: Dialect | None = None,
    rewrite: bool = False,
    unchecked: Iterable[str] = (),
) -> Iterator[RequestChunk]:
    """Stream a batch input file as chunks of lines, validated and optionally counted.

    Validation problems are gathered over the whole file and raised at the end as one
    InputValidationError, so every bad line is named at once.

    Args:
        counter: counts prompt tokens; made from the file's model (or ``base_model``) when None
            and the first line is read.
        expected_output_tokens: output tokens per request when a line sets no max_tokens.
        dialect: the provider's line style, checked on every line (or, with ``rewrite``, applied to it).
        unchecked: body keys passed as they are (parameters newer than the installed openai SDK);
            every other key of every body is checked as the provider checks it.
    """
    path = Path(path)
    if path.suffix.lower() != ".jsonl":
        raise DatasetError(f"{path}: a batch input file must be .jsonl (the provider refuses other uploads)")
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    summary = summary or BatchFileSummary()
    seen: dict[str, int] = {}
    unchecked = frozenset(unchecked)
    ids: list[str] = []
    lines: list[bytes] = []
    tokens: list[int] = []
    outputs: list[int] = []
    start = 0
    with path.open("rb") as handle:
        for number, raw in numbered_lines(handle):
            summary.lines += 1
            summary.first_line = summary.first_line or number
            record = _check_line(raw, number, summary, seen, unchecked)
            if record is not None and dialect is not None:
                record, raw = _line_style(record, raw, number, dialect, rewrite, summary)
            if record is None or summary.problems:
                continue
            if counter is None:
                counter = TokenCounter(base_model or summary.model or "")
            body = record["body"]
            ids.append(record["custom_id"])
            lines.append(raw if raw.endswith(b"\n") else raw + b"\n")
            tokens.append(counter.count_body(record["url"], body))
            outputs.append(_output_tokens(record["url"], body, expected_output_tokens))
            if len(lines) >= chunk_lines:
                yield RequestChunk(start, ids, lines, tokens, outputs)
                start += len(lines)
                ids, lines, tokens, outputs = [], [], [], []
    if summary.lines == 0:
        summary.problems.append(Problem("the file holds no request lines", "empty_file"))
    if summary.problems:
        raise InputValidationError(summary.problems, str(path))
    if lines:
        yield RequestChunk(start, ids, lines, tokens, outputs)


def peek_batch_file(path: str | Path) -> tuple[str | None, str | None, dict[str, Any]]:
    """The url, model and body of the first parsable line: the tokenizer, limits and parameters of the file."""
    record = _first_record(path)
    found = record.get("body")
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    url, model = record.get("url"), body.get("model")
    return (url if isinstance(url, str) else None, model if isinstance(model, str) else None, body)


def _first_record(path: str | Path) -> dict[str, Any]:
    with Path(path).open("rb") as handle:
        for _, raw in numbered_lines(handle):
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict):
                return record
    return {}


def _check_line(raw: bytes, number: int, summary: BatchFileSummary, seen: dict[str, int], unchecked: frozenset[str]) -> dict[str, Any] | None:
    def problem(message: str, code: str, custom_id: str | None = None) -> None:
        summary.problems.append(Problem(message, code, line=number, custom_id=custom_id))

    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        problem(f"not valid JSON ({exc})", "invalid_json_line")
        return None
    if not isinstance(record, dict):
        problem("a line must be a JSON object", "invalid_json_line")
        return None
    custom_id = record.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        problem("custom_id is missing or not a string", "missing_custom_id")
        return None
    if custom_id in seen:
        problem(f"duplicate custom_id (first on line {seen[custom_id]})", "duplicate_custom_id", custom_id)
    else:
        seen[custom_id] = number
    if record.get("method") != "POST":
        problem(f"method must be POST, not {record.get('method')!r}", "invalid_request", custom_id)
    url = record.get("url")
    if url not in LINE_URLS:
        problem(f"url {url!r} is not a batch endpoint ({', '.join(sorted(ENDPOINTS))})", "invalid_url", custom_id)
    elif summary.url is None:
        summary.url = url
    elif url != summary.url:
        problem(f"url {url!r} differs from the first line's {summary.url!r}; one endpoint per file", "url_mismatch", custom_id)
    body = record.get("body")
    if not isinstance(body, dict):
        problem("body is missing or not an object", "invalid_request", custom_id)
        return None
    model = body.get("model")
    if not isinstance(model, str) or not model:
        problem("body.model is missing", "invalid_request", custom_id)
    elif summary.model is None:
        summary.model = model
    elif model != summary.model:
        problem(f"model {model!r} differs from the first line's {summary.model!r}; one model per file", "model_mismatch", custom_id)
    if body.get("stream"):
        problem("body.stream is true; batch requests cannot stream", "invalid_request", custom_id)
    elif isinstance(url, str) and url in LINE_URLS:
        for message in check_body(canonical_endpoint(url), body, unchecked=unchecked):
            problem(message, "invalid_request", custom_id)
    return record


def _line_style(record: dict[str, Any], raw: bytes, number: int, dialect: Dialect, rewrite: bool,
                summary: BatchFileSummary) -> tuple[dict[str, Any], bytes]:  # fmt: skip
    """The line as the provider expects it: checked, or rewritten when asked; refused when the provider would."""
    url, model = record.get("url"), (record.get("body") or {}).get("model")
    if not isinstance(url, str) or not isinstance(model, str):
        return record, raw
    refusal = dialect.refusal(url, _has_images(record["body"]))
    if refusal and (number == summary.first_line or "embeddings" not in refusal):  # one file, one endpoint: said once
        summary.problems.append(Problem(refusal, "refused_by_provider", line=number, custom_id=record.get("custom_id")))
    endpoint = canonical_endpoint(url)
    want_url, want_model = dialect.line_url(endpoint), dialect.line_model(model)
    if (url, model) == (want_url, want_model):
        return record, raw
    if rewrite:
        record = {**record, "url": want_url, "body": {**record["body"], "model": want_model}}
        return record, orjson.dumps(record) + b"\n"
    changes = [f"url {url!r} -> {want_url!r}"] * (url != want_url) + [f"model {model!r} -> {want_model!r}"] * (model != want_model)
    hint = "; or pass --rewrite-for azure (rewrite_for: azure in the job's input_file)" if dialect.provider == "azure" else ""
    summary.problems.append(Problem(
        f"written for another provider: {dialect.provider} expects {', '.join(changes)}{hint}", "line_style",
        line=number, custom_id=record.get("custom_id"),
    ))  # fmt: skip
    return record, raw


def _has_images(body: dict[str, Any]) -> bool:
    """The body carries an image input (chat ``image_url`` or responses ``input_image`` parts)."""
    given = body.get("input")
    for message in body.get("messages") or (given if isinstance(given, list) else []):
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(isinstance(p, dict) and p.get("type") in ("image_url", "input_image") for p in content):
            return True
    return False


def _output_tokens(url: str, body: dict[str, Any], expected: int | None) -> int:
    if url.endswith("/embeddings") or url.endswith("/moderations"):
        return 0
    if expected is not None:
        return expected
    for key in _OUTPUT_KEYS:
        if isinstance(value := body.get(key), int):
            return value
    return DEFAULT_OUTPUT_TOKENS
