"""The dashboard cards: the figures a user looks for are there, and data cannot inject markup."""

from __future__ import annotations

import time

import pandas as pd

from tests.helpers import http_error_line, output_line
from zenbatch.jobs import BatchJob, JobShard, ShardStatus
from zenbatch.parts import part_statistics
from zenbatch.pricing import JobEstimate, PriceTable
from zenbatch.reports import render_evaluation_card, render_job_card, render_results_card
from zenbatch.results import ResultParser, join_results, summarize


def _results() -> pd.DataFrame:
    parser = ResultParser(structured=True)
    parser.feed([
        output_line("c1", '{"sentiment": "positive"}', prompt=50, completion=6),
        output_line("c2", "<script>alert(1)</script>", prompt=50, completion=6),
        http_error_line("c3", 429, "rate_limit_exceeded", "Slow down"),
    ], "out.jsonl")  # fmt: skip
    inputs = pd.DataFrame({"text": ["a", "b", "c", "d"]})
    return join_results(inputs, ["c1", "c2", "c3", "c4"], parser.frame(), table=PriceTable.default(), pricing_model="gpt-4o-mini")


def test_results_card_shows_status_counts_cost_against_estimate_and_escapes_answers():
    results = _results()
    ok = results["status"] == "succeeded"
    codes = part_statistics(results, ~ok)["error_codes"]
    html = render_results_card(summarize(results), codes, results[ok], results[~ok], JobEstimate(batch_cost=0.0001, prompt_tokens=200))

    assert "succeeded 2 (50.0%)" in html and "failed 1 (25.0%)" in html and "missing 1 (25.0%)" in html
    assert "rate_limit_exceeded" in html and "Slow down" in html
    assert "% of the estimate" in html and "0.0001 USD" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.replace("&lt;script", "")  # no script of its own either: renders offline


def test_job_card_lists_every_shard_with_batch_ids_and_the_saving():
    shards = [
        JobShard(index=0, path="a.jsonl", sha256="x", requests=3, prompt_tokens=90, batch_id="batch_1", status=ShardStatus.COMPLETED),
        JobShard(index=1, path="b.jsonl", sha256="y", requests=2, prompt_tokens=60, status=ShardStatus.PENDING),
    ]  # fmt: skip
    job = BatchJob(name="reviews <b>", provider="local", endpoint="/v1/chat/completions", batch_endpoint="/v1/chat/completions", model="gpt-4o-mini",
                   pricing_model="gpt-4o-mini", workdir=".", shards=shards,
                   estimate=JobEstimate(batch_cost=0.5, realtime_cost=1.0, prompt_tokens=150, prices_as_of="2026-01-15"))  # fmt: skip

    html = render_job_card(job)

    assert "batch_1" in html and "pending" in html and "completed" in html
    assert "0.5000 USD" in html and "1.00 USD" in html  # batch, realtime; saved 0.50
    assert html.count("0.5000 USD") == 2
    assert "reviews &lt;b&gt;" in html and "reviews <b>" not in html
    assert "2026-01-15" in html
    assert "Needs attention" not in html


def test_job_card_flags_result_files_that_expire_before_they_are_downloaded():
    soon, stored = time.time() + 3 * 3600, time.time() + 3600
    shards = [
        JobShard(index=0, sha256="x", requests=3, batch_id="batch_soon", status=ShardStatus.COMPLETED, results_expire_at=int(soon)),
        JobShard(index=1, sha256="y", requests=3, batch_id="batch_kept", status=ShardStatus.COMPLETED,
                 results_expire_at=int(stored), output_sha256="ab" * 32),
        JobShard(index=2, sha256="z", requests=3, batch_id="batch_later", status=ShardStatus.COMPLETED,
                 results_expire_at=int(time.time() + 3 * 86_400)),
    ]  # fmt: skip
    job = BatchJob(name="j", provider="openai", endpoint="/v1/chat/completions", batch_endpoint="/v1/chat/completions",
                   model="m", pricing_model="m", workdir=".", shards=shards)  # fmt: skip

    html = render_job_card(job)

    assert "Needs attention" in html and "batch_soon" in html.split("Estimate")[0]
    assert "in 3.0 h" in html and "run the loader before then" in html
    assert "batch_kept" not in html.split("Estimate")[0] and "batch_later" not in html.split("Estimate")[0]


def test_evaluation_card_shows_metrics_and_the_confusion_matrix():
    report = {
        "rows": 4, "evaluated": 4, "accuracy": 0.5, "accuracy_on_valid": 2 / 3, "coverage": 0.75,
        "labels": ["negative", "positive"], "macro_f1": 0.5, "weighted_f1": 0.5, "invalid_predictions": 1,
        "per_class": {"negative": {"precision": 1.0, "recall": 0.5, "f1": 0.667, "support": 2},
                      "positive": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}},
        "confusion": [[1, 0, 1], [1, 1, 0]], "confusion_columns": ["negative", "positive", "(invalid)"],
    }  # fmt: skip

    html = render_evaluation_card(report)

    assert "50.0%" in html and "66.7%" in html and "75.0%" in html
    assert "(invalid)" in html and "0.667" in html
    assert html.count("<tr>") == 1 + 2  # the per-class table; the matrix is a picture
    matrix = _svg(html, "confusion matrix")
    assert matrix.count("<rect") == 6  # 2 truths x 3 predicted
    assert "truth negative, predicted negative: 1 (50% of the row)" in matrix
    assert "truth positive, predicted (invalid): 0 (0% of the row)" in matrix
    assert "rgba(47,158,68," in matrix and "rgba(224,49,49," in matrix  # right in green, wrong in red
    labels = _svg(html, "truth against predicted")
    assert "negative, truth: 2" in labels and "negative, predicted: 2" in labels and "(invalid), predicted: 1" in labels


def _svg(html: str, label: str) -> str:
    """The inline picture labelled ``label``; it must be plain SVG, with no script."""
    start = html.index(f"aria-label='{label}'")
    picture = html[html.rindex("<svg", 0, start) : html.index("</svg>", start) + 6]
    assert "<script" not in picture and "javascript:" not in picture
    return picture


def test_job_card_draws_each_shards_life_on_a_timeline():
    now = time.time()
    shards = [
        JobShard(index=0, sha256="a", requests=3, batch_id="b0", status=ShardStatus.COMPLETED, submitted_at=now - 600, finished_at=now - 300),
        JobShard(index=1, sha256="b", requests=3, batch_id="b1", status=ShardStatus.EXPIRED, submitted_at=now - 600, finished_at=now - 60),
        JobShard(index=2, sha256="c", requests=1, batch_id="b2", status=ShardStatus.IN_PROGRESS, submitted_at=now - 50,
                 attempt=2, homes=[1]),
        JobShard(index=3, sha256="d", requests=3, status=ShardStatus.PENDING, deferred="the queue is full"),
    ]  # fmt: skip
    job = BatchJob(name="t", provider="openai", endpoint="/v1/chat/completions", batch_endpoint="/v1/chat/completions",
                   model="m", pricing_model="m", workdir=".", shards=shards)  # fmt: skip

    picture = _svg(render_job_card(job), "shard timeline")

    assert "shard 0: completed, 5 min" in picture and "shard 1: expired, 9 min" in picture
    assert "shard 2 (attempt 2): in_progress" in picture and "retry of shard 1" in picture
    assert "shard 3: pending · waits" in picture and "stroke-dasharray" in picture  # not submitted: an outline
    assert "#2f9e44" in picture and "#f08c00" in picture and "#1c7ed6" in picture


def test_results_card_draws_the_actual_cost_and_tokens_against_the_estimate():
    results = _results()
    ok = results["status"] == "succeeded"
    estimate = JobEstimate(batch_cost=0.0001, prompt_tokens=200, output_tokens=40)
    html = render_results_card(summarize(results), part_statistics(results, ~ok)["error_codes"], results[ok], results[~ok], estimate)

    picture = _svg(html, "estimated against actual")

    assert "prompt tokens, estimated: 200" in picture and "prompt tokens, actual: 100" in picture
    assert "output tokens, estimated: 40" in picture and "output tokens, actual: 12" in picture
    assert "cost (batch), estimated: $0.0001" in picture and "50%" in picture


def test_job_card_shows_how_long_an_azure_job_runs_and_flags_one_past_a_day():
    started = time.time() - 26 * 3600
    shards = [JobShard(index=0, sha256="x", requests=3, batch_id="batch_1", status=ShardStatus.IN_PROGRESS, submitted_at=started)]
    job = BatchJob(name="j", job_id="abc123", provider="azure", endpoint="/chat/completions", batch_endpoint="/chat/completions",
                   model="d", pricing_model="gpt-4o-mini", workdir=".", shards=shards)  # fmt: skip

    html = render_job_card(job)

    assert "open, running 26.0 h" in html and "Needs attention" in html
    assert "azure does not expire batches" in html and "zenbatch cancel abc123" in html and "max_age_hours" in html
    assert "does not expire" not in render_job_card(job.model_copy(update={"provider": "openai"}))
