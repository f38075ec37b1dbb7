"""Output and error files -> one result row per input row.

Lines arrive in any order and are joined on custom_id. Both error shapes are understood (an
HTTP error from the model in ``response``, or a request that never ran in ``error``), as are
Azure's lines without ``id``. A row that never came back is ``missing``, never dropped.
Retryable: 429, 5xx, ``batch_expired`` and missing rows; not retryable: other 4xx, content
filters, context length, cancelled requests.

Nearly every line of a batch is a successful chat completion with text: the reading loop takes
those fields itself, and leaves every other shape to ``_outcome``. Each file's outcomes become
columns once (see zenbatch.columns), and the join matches custom_ids with one Arrow hash table.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa

from zenbatch import columns
from zenbatch.errors import ResultsError
from zenbatch.pricing import PriceTable, realtime_cost

SUCCEEDED, FAILED, MISSING = "succeeded", "failed", "missing"
RESULT_COLUMNS = [
    "custom_id", "status", "content", "parsed", "parse_error", "finish_reason", "embedding",
    "prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens",
    "status_code", "error_code", "error_message", "retryable", "cost_usd",
]  # fmt: skip
RETRYABLE_CODES = {"batch_expired", "rate_limit_exceeded", "server_error", "timeout", "missing"}
PERMANENT_CODES = {"context_length_exceeded", "content_filter", "content_policy_violation", "batch_cancelled", "invalid_prompt"}
_TOKEN_FIELDS = ("prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens")
_TEXT_FIELDS = ("status", "content", "parse_error", "finish_reason", "error_code", "error_message", "retryable")
_FRAME_COLUMNS = [c for c in RESULT_COLUMNS if c != "cost_usd"]
_OUTCOME_FIELDS = _FRAME_COLUMNS[1:]
_DENSE_FIELDS = ("content", "parsed", "finish_reason", *_TOKEN_FIELDS)
_CHAT_SUCCESS = {"status": SUCCEEDED, "parse_error": None, "embedding": None, "status_code": 200,
                 "error_code": None, "error_message": None, "retryable": False}  # fmt: skip
_READ_BUFFER = 1 << 20
_BATCH = 1 << 16  # lines read between two moves of their custom_ids to Arrow


def is_retryable(status_code: int | None, code: str | None) -> bool:
    """Whether a failure may pass on a new attempt."""
    if code in PERMANENT_CODES:
        return False
    if code in RETRYABLE_CODES:
        return True
    return status_code is not None and (status_code == 429 or status_code >= 500)


class ResultParser:
    """Parses output and error lines into columns, keeping one outcome per custom_id.

    A later success replaces an earlier failure (a retried request); a failure never
    replaces a success.
    """

    def __init__(self, structured: bool = False):
        self.structured = structured
        self._table = _Rows().frame()  # one row per custom_id, as of the last frame()
        self._parts: list[pd.DataFrame] = []  # the rows of each file fed since, in arrival order

    def feed(self, lines: Iterable[bytes], source: str = "results") -> None:
        """Parse the lines of one output or error file."""
        rows = _Rows()
        try:
            rows.read(lines, source, self.structured)
        finally:
            if len(rows):
                self._parts.append(rows.frame())

    def feed_file(self, path: str | Path) -> None:
        with Path(path).open("rb", buffering=_READ_BUFFER) as handle:
            self.feed(handle, str(path))

    def frame(self) -> pd.DataFrame:
        """The parsed outcomes, one row per custom_id seen, in the order each was first seen.

        Text, ``parsed`` and ``embedding`` columns hold objects (None where there is none);
        ``status_code`` is a nullable Int64.
        """
        if self._parts:
            parts = [self._table, *self._parts] if len(self._table) else self._parts
            rows = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
            self._table, self._parts = _one_per_custom_id(rows), []
        return self._table.copy(deep=False)


def _one_per_custom_id(rows: pd.DataFrame) -> pd.DataFrame:
    """Each custom_id's row where it was first seen: its first success, or else its last outcome."""
    ids = columns.strings(rows["custom_id"])
    if columns.all_distinct(ids):
        return rows
    codes = columns.first_seen(ids)
    count, distinct = len(rows), int(codes.max()) + 1
    order = np.arange(count)
    last = np.full(distinct, -1)
    np.maximum.at(last, codes, order)
    succeeded = (rows["status"] == SUCCEEDED).to_numpy()
    first_success = np.full(distinct, count)
    np.minimum.at(first_success, codes[succeeded], order[succeeded])
    chosen = np.where(first_success < count, first_success, last)
    return rows.take(chosen).reset_index(drop=True)


class _Rows:
    """The outcomes of one file's lines in arrival order, as lists until they become a frame.

    Every row fills the dense fields; the fields of _CHAT_SUCCESS are kept only for rows that
    are not a chat completion success. The custom_ids go to Arrow every _BATCH lines.
    """

    def __init__(self) -> None:
        self.id_chunks: list[pa.Array] = []
        self.ids: list[str] = []  # since the last chunk
        self.dense: dict[str, list[Any]] = {name: [] for name in _DENSE_FIELDS}
        self.other: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.dense["content"])

    def read(self, lines: Iterable[bytes], source: str, structured: bool) -> None:
        """Add one row per line; blank lines are skipped."""
        lines, first = iter(lines), 1
        while True:
            count = self._read_batch(islice(lines, _BATCH), first, source, structured)
            self._seal_ids()
            if count < _BATCH:
                return
            first += count

    def _read_batch(self, lines: Iterable[bytes], first: int, source: str, structured: bool) -> int:
        """Add the rows of lines numbered from ``first``; how many lines there were.

        A successful chat completion with text content is read here, as _outcome reads it; any
        other line, or one whose fields are not all there, goes to _outcome.
        """
        loads, intern, add_id = orjson.loads, sys.intern, self.ids.append
        add_content, add_parsed, add_finish, add_prompt, add_completion, add_cached, add_reasoning = (
            self.dense[name].append for name in _DENSE_FIELDS
        )
        number = first - 1
        for number, raw in enumerate(lines, start=first):
            try:
                record = loads(raw)
                custom_id = record["custom_id"]
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                if not raw.strip():
                    continue
                raise _corrupt(source, number, f"{type(exc).__name__}: {exc}") from None
            if custom_id.__class__ is not str:
                raise _corrupt(source, number, f"custom_id {custom_id!r} is not a string")
            try:
                response = record["response"]
                body = response["body"]
                choice = body["choices"][0]
                content = choice["message"]["content"]
                finish_reason = intern(choice["finish_reason"])
                usage = body["usage"]
                prompt = usage["prompt_tokens"] or 0
                completion = usage["completion_tokens"] or 0
                cached = usage["prompt_tokens_details"]["cached_tokens"] or 0
                reasoning = usage["completion_tokens_details"]["reasoning_tokens"] or 0
                chat_success = response["status_code"] == 200 and content is not None and finish_reason != "content_filter"
                parsed = loads(content) if chat_success and structured else None
            except (KeyError, IndexError, TypeError, orjson.JSONDecodeError):
                chat_success = False
            if not chat_success:
                self._add_other(custom_id, record, structured, f"{source}, line {number}")
                continue
            add_id(custom_id)
            add_content(content)
            add_parsed(parsed)
            add_finish(finish_reason)
            add_prompt(prompt)
            add_completion(completion)
            add_cached(cached)
            add_reasoning(reasoning)
        return number - first + 1

    def _add_other(self, custom_id: str, record: dict[str, Any], structured: bool, where: str) -> None:
        outcome = _outcome(record, structured)
        if outcome is None:
            raise ResultsError(f"{where}: custom_id {custom_id!r} has neither response nor error")
        fields = dict(zip(_OUTCOME_FIELDS, outcome))
        self.other[len(self)] = {name: fields[name] for name in _CHAT_SUCCESS}
        self.ids.append(custom_id)
        for name in _DENSE_FIELDS:
            self.dense[name].append(fields[name])

    def _seal_ids(self) -> None:
        if self.ids:
            self.id_chunks.append(columns.strings(self.ids))
            self.ids = []

    def frame(self) -> pd.DataFrame:
        """The rows in _FRAME_COLUMNS, duplicates of a custom_id kept; each list is emptied once it is a column."""
        self._seal_ids()
        count = len(self)
        made: dict[str, Any] = {"custom_id": pa.chunked_array(self.id_chunks, type=pa.large_string()).to_pandas()}
        for name in _DENSE_FIELDS:
            values = self.dense[name]
            made[name] = columns.integers(values) if name in _TOKEN_FIELDS else columns.objects(values)
            values.clear()
        rows = np.fromiter(self.other, dtype=np.int64, count=len(self.other))
        for name, value in _CHAT_SUCCESS.items():
            made[name] = columns.constant(count, value, rows, [fields[name] for fields in self.other.values()])
        self.id_chunks, self.other = [], {}
        return columns.frame({name: made[name] for name in _FRAME_COLUMNS})


def _outcome(record: dict[str, Any], structured: bool) -> tuple[Any, ...] | None:
    """One line's fields in _OUTCOME_FIELDS order."""
    response = record.get("response")
    error = record.get("error")
    if response is None:
        if not isinstance(error, dict):
            return None
        code = error.get("code")
        return (FAILED, None, None, None, None, None, 0, 0, 0, 0, None, code, error.get("message"), is_retryable(None, code))
    status_code = response.get("status_code")
    body = response.get("body") or {}
    if status_code != 200:
        err = body.get("error") if isinstance(body, dict) else None
        err = err if isinstance(err, dict) else {}
        code = err.get("code") or err.get("type") or f"http_{status_code}"
        message = err.get("message") or f"HTTP {status_code}"
        return (FAILED, None, None, None, None, None, 0, 0, 0, 0, status_code, code, message, is_retryable(status_code, code))
    content, finish_reason, embedding = _content(body)
    prompt, completion, cached, reasoning = usage_of(body)
    parsed = parse_error = None
    if structured and content is not None:
        try:
            parsed = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            parse_error = f"the answer is not valid JSON: {exc}"
    if finish_reason == "content_filter":
        return (FAILED, content, parsed, parse_error, finish_reason, embedding, prompt, completion, cached, reasoning,
                status_code, "content_filter", "the answer was stopped by a content filter", False)  # fmt: skip
    return (SUCCEEDED, content, parsed, parse_error, finish_reason, embedding, prompt, completion, cached, reasoning,
            status_code, None, None, False)  # fmt: skip


def usage_of(body: dict[str, Any]) -> tuple[int, int, int, int]:
    """``(input, output, cached, reasoning)`` tokens of a response body of any endpoint: chat and
    completions say ``prompt_tokens``/``completion_tokens``, responses ``input_tokens``/``output_tokens``."""
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return 0, 0, 0, 0
    inputs = usage.get("prompt_tokens", usage.get("input_tokens", 0)) or 0
    outputs = usage.get("completion_tokens", usage.get("output_tokens", 0)) or 0
    in_details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
    out_details = usage.get("completion_tokens_details") or usage.get("output_tokens_details") or {}
    return int(inputs), int(outputs), int(in_details.get("cached_tokens") or 0), int(out_details.get("reasoning_tokens") or 0)


def _content(body: dict[str, Any]) -> tuple[str | None, str | None, list[float] | None]:
    """(text, finish_reason, embedding) of a response body of any batch endpoint."""
    choices = body.get("choices")
    if choices:
        choice = choices[0]
        message = choice.get("message")
        if message is not None:
            text = message.get("content")
            if text is None and message.get("refusal"):
                text = message["refusal"]
            elif text is None and message.get("tool_calls"):
                text = orjson.dumps(message["tool_calls"]).decode()
            return text, choice.get("finish_reason"), None
        return choice.get("text"), choice.get("finish_reason"), None
    if body.get("object") == "response":
        texts = [
            part.get("text", "")
            for item in body.get("output") or []
            if item.get("type") == "message"
            for part in item.get("content") or []
            if part.get("type") == "output_text"
        ]
        incomplete = (body.get("incomplete_details") or {}).get("reason")
        return ("".join(texts) if texts else None), incomplete or body.get("status"), None
    data = body.get("data")
    if data and isinstance(data, list) and isinstance(data[0], dict) and "embedding" in data[0]:
        return None, None, data[0]["embedding"]
    if "results" in body:  # moderations
        return orjson.dumps(body["results"]).decode(), None, None
    return None, None, None


def _corrupt(source: str, number: int, reason: str) -> ResultsError:
    return ResultsError(
        f"{source}, line {number}: not a batch result line ({reason}); "
        "the file may be truncated or corrupt: it is discarded, and the next collect downloads it again"
    )


def join_results(
    inputs: pd.DataFrame,
    custom_ids: list[str],
    outcomes: pd.DataFrame,
    *,
    table: PriceTable | None = None,
    pricing_model: str | None = None,
) -> pd.DataFrame:
    """One row per input row: the outcome joined to the input columns, in input order.

    Input columns whose names collide with result columns get an ``input_`` prefix.
    Rows with no outcome are ``missing`` and retryable.
    """
    if len(custom_ids) != len(inputs):
        raise ResultsError(f"{len(custom_ids)} custom_ids for {len(inputs)} input rows; they must match one to one")
    ids, rows = _match(custom_ids, outcomes["custom_id"])
    joined = {"custom_id": ids, **_outcomes_at(outcomes, rows)}
    missing = pd.isna(joined["status"])
    joined["status"][missing] = MISSING
    joined["error_code"][missing] = "missing"
    joined["error_message"][missing] = "no result came back for this request"
    joined["retryable"][missing] = True
    joined["retryable"] = joined["retryable"].astype(bool)
    frame = columns.frame(joined)
    frame["cost_usd"] = actual_cost(frame, table, pricing_model)
    renamed = {c: f"input_{c}" for c in inputs.columns if c in RESULT_COLUMNS}
    extra = inputs.reset_index(drop=True).rename(columns=renamed)
    return pd.concat([frame, extra], axis=1)


def _match(custom_ids: Sequence[str], known: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The custom_id column of the joined table, and each custom_id's row in ``known`` (-1 for none)."""
    try:
        wanted, have = columns.strings(custom_ids), columns.strings(known)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # ids that are not all strings
        index = pd.Index(known)
        if not index.is_unique:
            raise ValueError("cannot reindex on an axis with duplicate labels") from None
        return pd.Series(list(custom_ids)), index.get_indexer(custom_ids)
    codes = columns.first_seen(pa.chunked_array([*columns.chunks(have), *columns.chunks(wanted)], type=pa.large_string()))
    count = len(have)
    if count and codes[:count].max() != count - 1:
        raise ValueError("cannot reindex on an axis with duplicate labels")
    found = codes[count:]
    return wanted.to_pandas(), np.where(found < count, found, -1)


def _outcomes_at(outcomes: pd.DataFrame, rows: np.ndarray) -> dict[str, Any]:
    """The outcome fields at ``rows`` (-1: none), in _OUTCOME_FIELDS order.

    Text fields are objects with None where there is no value, token counts int64 with 0,
    status codes Int64, ``parsed`` and ``embedding`` objects with NaN.
    """
    fields: dict[str, Any] = {}
    for name in _OUTCOME_FIELDS:
        column = outcomes[name]
        if name in _TEXT_FIELDS:
            fields[name] = columns.objects_at(column, rows)
        elif name in _TOKEN_FIELDS:
            fields[name] = pd.Series(columns.take(column, rows, fill_value=0), copy=False).fillna(0).astype("int64")
        elif name == "status_code":
            fields[name] = pd.Series(columns.take(column, rows), copy=False).astype("Int64")
        else:
            fields[name] = columns.take(column, rows)
    return fields


def actual_cost(frame: pd.DataFrame, table: PriceTable | None, model: str | None) -> np.ndarray:
    """Each row's cost at the batch price (NaN when the model has no price)."""
    price = table.price(model) if table is not None and model else None
    if price is None or table is None:
        return np.full(len(frame), np.nan)
    prompt = frame["prompt_tokens"].to_numpy(dtype="float64")
    cached = frame["cached_tokens"].to_numpy(dtype="float64")
    completion = frame["completion_tokens"].to_numpy(dtype="float64")
    spent_in, spent_out = realtime_cost(price, prompt, completion, cached)
    total: np.ndarray = (spent_in + spent_out) * table.batch_discount
    return total


def summarize(results: pd.DataFrame) -> dict[str, Any]:
    """Counts by status, tokens and cost of a results table."""
    counts = results["status"].value_counts()
    return {
        "rows": len(results),
        "succeeded": int(counts.get(SUCCEEDED, 0)),
        "failed": int(counts.get(FAILED, 0)),
        "missing": int(counts.get(MISSING, 0)),
        "retryable": int(results["retryable"].sum()),
        "prompt_tokens": int(results["prompt_tokens"].sum()),
        "completion_tokens": int(results["completion_tokens"].sum()),
        "cost_usd": float(np.nansum(results["cost_usd"].to_numpy(dtype="float64"))),
    }
