"""The ``batch_results`` card: rows by status, tokens, actual cost against the estimate, samples."""

from __future__ import annotations

from typing import Any

import pandas as pd

from zenbatch.pricing import JobEstimate
from zenbatch.reports.html import Raw, clip, figures, money, number, page, parts_bar, section, table, text
from zenbatch.reports.svg import paired_bars
from zenbatch.results import FAILED, MISSING, SUCCEEDED


def render_results_card(summary: dict[str, Any], codes: dict[str, int], answers: pd.DataFrame, failures: pd.DataFrame,
                        estimate: JobEstimate | None = None) -> str:  # fmt: skip
    """One HTML page summarising a job's results: counts (``results.summarize``), rows by error code,
    sample rows, and the actual cost and tokens against the ``estimate`` (when known)."""
    currency = estimate.currency if estimate else "USD"
    actual = summary.get("cost_usd")
    estimated, prompt, output = (estimate.batch_cost, estimate.prompt_tokens, estimate.output_tokens) if estimate else (None, None, None)
    versus = ""
    if estimated:
        versus = f" ({100 * actual / estimated:.0f}% of the estimate)" if actual is not None else ""
    numbers = figures([
        ("rows", number(summary.get("rows"))),
        ("prompt tokens", number(summary.get("prompt_tokens"))),
        ("completion tokens", number(summary.get("completion_tokens"))),
        ("actual cost (batch)", money(actual, currency)),
        ("estimated cost (batch)", money(estimated, currency)),
        ("estimated prompt tokens", number(prompt)),
    ])  # fmt: skip
    status = parts_bar({name: int(summary.get(name, 0)) for name in (SUCCEEDED, FAILED, MISSING)})
    retry = f"<div class='legend'>{number(summary.get('retryable'))} rows failed for a retryable reason</div>"
    against = paired_bars(
        [
            ("cost (batch)", estimated, actual, "money"),
            ("prompt tokens", prompt, summary.get("prompt_tokens"), ""),
            ("output tokens", output, summary.get("completion_tokens"), ""),
        ]
    )
    return page(
        "Batch results",
        f"{number(summary.get('rows'))} rows, one per input row{text(versus)}",
        section("Rows by status", status, retry),
        section("Tokens and cost", numbers, against),
        section("Errors by code", _error_codes(codes)),
        section("Sample answers", _samples(answers, ["custom_id", "content", "finish_reason", "completion_tokens"])),
        section("Sample failures", _samples(failures, ["custom_id", "status", "status_code", "error_code", "error_message"])),
    )


def _error_codes(codes: dict[str, int]) -> str:
    if not codes:
        return "<div class='legend'>no failed or missing rows</div>"
    return table(["code", "rows"], sorted(codes.items(), key=lambda item: -item[1]), numeric=(1,))


def _samples(sample: pd.DataFrame, columns: list[str]) -> str:
    rows = sample[[c for c in columns if c in sample.columns]]
    if rows.empty:
        return "<div class='legend'>none</div>"
    return table(list(rows.columns), ([Raw(clip(v)) if isinstance(v, str) else v for v in row] for row in rows.itertuples(index=False)))
