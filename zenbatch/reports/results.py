"""The ``batch_results`` card: rows by status, tokens, actual cost against the estimate, samples."""

from __future__ import annotations

from typing import Any

import pandas as pd

from zenbatch.reports.html import Raw, clip, figures, money, number, page, parts_bar, section, table, text
from zenbatch.results import FAILED, MISSING, SUCCEEDED

SAMPLES = 8


def render_results_card(results: pd.DataFrame, summary: dict[str, Any], estimate: dict[str, Any] | None = None) -> str:
    """One HTML page summarising a results table (``summary`` from ``results.summarize``)."""
    estimate = estimate or {}
    currency = str(estimate.get("currency", "USD"))
    actual = summary.get("cost_usd")
    estimated = estimate.get("batch_cost")
    versus = ""
    if estimated:
        versus = f" ({100 * actual / estimated:.0f}% of the estimate)" if actual is not None else ""
    numbers = figures([
        ("rows", number(summary.get("rows"))),
        ("prompt tokens", number(summary.get("prompt_tokens"))),
        ("completion tokens", number(summary.get("completion_tokens"))),
        ("actual cost (batch)", money(actual, currency)),
        ("estimated cost (batch)", money(estimated, currency)),
        ("estimated prompt tokens", number(estimate.get("prompt_tokens"))),
    ])  # fmt: skip
    status = parts_bar({name: int(summary.get(name, 0)) for name in (SUCCEEDED, FAILED, MISSING)})
    retry = f"<div class='legend'>{number(summary.get('retryable'))} rows failed for a retryable reason</div>"
    return page(
        "Batch results",
        f"{number(summary.get('rows'))} rows, one per input row{text(versus)}",
        section("Rows by status", status, retry),
        section("Tokens and cost", numbers),
        section("Errors by code", _error_codes(results)),
        section("Sample answers", _samples(results, results["status"] == SUCCEEDED, ["custom_id", "content", "finish_reason", "completion_tokens"])),
        section("Sample failures", _samples(results, results["status"] != SUCCEEDED, ["custom_id", "status", "status_code", "error_code", "error_message"])),
    )


def _error_codes(results: pd.DataFrame) -> str:
    failed = results[results["status"] != SUCCEEDED]
    if failed.empty:
        return "<div class='legend'>no failed or missing rows</div>"
    codes = failed["error_code"].fillna(failed["status"]).value_counts()
    return table(["code", "rows"], codes.items(), numeric=(1,))


def _samples(results: pd.DataFrame, mask: pd.Series, columns: list[str]) -> str:
    rows = results.loc[mask, [c for c in columns if c in results.columns]].head(SAMPLES)
    if rows.empty:
        return "<div class='legend'>none</div>"
    return table(list(rows.columns), ([Raw(clip(v)) if isinstance(v, str) else v for v in row] for row in rows.itertuples(index=False)))
