"""Output and error files -> one result row per input row.

Lines arrive in any order and are joined on custom_id. Both error shapes are understood (an
HTTP error from the model in ``response``, or a request that never ran in ``error``), as are
Azure's lines without ``id``. A row that never came back is ``missing``, never dropped.
Retryable: 429, 5xx, ``batch_expired`` and missing rows; not retryable: other 4xx, content
filters, context length, cancelled requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from zenbatch.errors import ResultsError
from zenbatch.pricing import PriceTable

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
        self.columns: dict[str, list[Any]] = {name: [] for name in RESULT_COLUMNS if name != "cost_usd"}
        self.position: dict[str, int] = {}

    def feed(self, lines: Iterable[bytes], source: str = "results") -> None:
        """Parse the lines of one output or error file."""
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
                custom_id = record["custom_id"]
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                raise ResultsError(
                    f"{source}, line {number}: not a batch result line ({type(exc).__name__}: {exc}); "
                    "the file may be truncated or corrupt: it is discarded, and the next collect downloads it again"
                ) from None
            self._add(custom_id, record, source, number)

    def feed_file(self, path: str | Path) -> None:
        with Path(path).open("rb") as handle:
            self.feed(handle, str(path))

    def _add(self, custom_id: str, record: dict, source: str, number: int) -> None:
        row = _outcome(record, self.structured)
        if row is None:
            raise ResultsError(f"{source}, line {number}: custom_id {custom_id!r} has neither response nor error")
        existing = self.position.get(custom_id)
        columns = self.columns
        if existing is None:
            self.position[custom_id] = len(columns["custom_id"])
            columns["custom_id"].append(custom_id)
            for name, value in zip(_OUTCOME_FIELDS, row):
                columns[name].append(value)
        elif columns["status"][existing] != SUCCEEDED:
            for name, value in zip(_OUTCOME_FIELDS, row):
                columns[name][existing] = value

    def frame(self) -> pd.DataFrame:
        """The parsed outcomes, one row per custom_id seen."""
        return pd.DataFrame(self.columns, columns=[c for c in RESULT_COLUMNS if c != "cost_usd"])


_OUTCOME_FIELDS = [c for c in RESULT_COLUMNS if c not in ("custom_id", "cost_usd")]


def _outcome(record: dict, structured: bool) -> tuple | None:
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
    usage = body.get("usage") or {}
    prompt = usage.get("prompt_tokens", usage.get("input_tokens", 0)) or 0
    completion = usage.get("completion_tokens", usage.get("output_tokens", 0)) or 0
    in_details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
    out_details = usage.get("completion_tokens_details") or usage.get("output_tokens_details") or {}
    cached = in_details.get("cached_tokens") or 0
    reasoning = out_details.get("reasoning_tokens") or 0
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


def _content(body: dict) -> tuple[str | None, str | None, list[float] | None]:
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
    indexed = outcomes.set_index("custom_id", drop=False)
    joined = indexed.reindex(pd.Index(custom_ids, name=None))
    for name in _TEXT_FIELDS:
        joined[name] = joined[name].astype(object).where(joined[name].notna(), None)
    missing = joined["status"].isna().to_numpy()
    joined["custom_id"] = custom_ids
    joined.loc[missing, "status"] = MISSING
    joined.loc[missing, "error_code"] = "missing"
    joined.loc[missing, "error_message"] = "no result came back for this request"
    joined.loc[missing, "retryable"] = True
    for name in _TOKEN_FIELDS:
        joined[name] = joined[name].fillna(0).astype("int64")
    joined["retryable"] = joined["retryable"].astype(bool)
    joined["status_code"] = joined["status_code"].astype("Int64")
    joined["cost_usd"] = actual_cost(joined, table, pricing_model)
    joined = joined.reset_index(drop=True)[RESULT_COLUMNS]
    renamed = {c: f"input_{c}" for c in inputs.columns if c in RESULT_COLUMNS}
    extra = inputs.reset_index(drop=True).rename(columns=renamed)
    return pd.concat([joined, extra], axis=1)


def actual_cost(frame: pd.DataFrame, table: PriceTable | None, model: str | None) -> np.ndarray:
    """Each row's cost at the batch price (NaN when the model has no price)."""
    price = table.price(model) if table is not None and model else None
    if price is None:
        return np.full(len(frame), np.nan)
    prompt = frame["prompt_tokens"].to_numpy(dtype="float64")
    cached = np.minimum(frame["cached_tokens"].to_numpy(dtype="float64"), prompt)
    completion = frame["completion_tokens"].to_numpy(dtype="float64")
    cached_price = price.cached_input if price.cached_input is not None else price.input
    realtime = ((prompt - cached) * price.input + cached * cached_price + completion * price.output) / 1_000_000
    return realtime * table.batch_discount


def summarize(results: pd.DataFrame) -> dict[str, Any]:
    """Counts by status, tokens and cost of a results table."""
    counts = results["status"].value_counts()
    return {
        "rows": int(len(results)),
        "succeeded": int(counts.get(SUCCEEDED, 0)),
        "failed": int(counts.get(FAILED, 0)),
        "missing": int(counts.get(MISSING, 0)),
        "retryable": int(results["retryable"].sum()),
        "prompt_tokens": int(results["prompt_tokens"].sum()),
        "completion_tokens": int(results["completion_tokens"].sum()),
        "cost_usd": float(np.nansum(results["cost_usd"].to_numpy(dtype="float64"))),
    }
