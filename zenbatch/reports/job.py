"""The ``batch_job`` card: what was submitted, what it should cost, where each shard stands."""

from __future__ import annotations

import time

from zenbatch.jobs import BatchJob, ShardStatus
from zenbatch.lifecycle.files import expiring
from zenbatch.providers import PROFILES
from zenbatch.reports.html import figures, money, number, page, parts_bar, section, table, text
from zenbatch.reports.svg import Span, timeline

LONG_RUN_HOURS = 24.0
MAX_TIMELINE = 60  # shards drawn on the timeline; the table lists them all


def _when(stamp: float | None) -> str:
    return "—" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def _too_long(job: BatchJob) -> list[str]:
    """A job running past a day on a provider that never expires batches (Azure) needs a decision."""
    if job.collected or not job.open_shards or PROFILES[job.provider].expires or job.age_hours() < LONG_RUN_HOURS:
        return []
    return [
        f"the job has run {job.age_hours():.1f} h and {job.provider} does not expire batches: they run until they finish or "
        f"are cancelled (zenbatch cancel {job.job_id}); provider.max_age_hours cancels them on its own"
    ]


def _timeline(job: BatchJob) -> str:
    """Each shard from its submission to its end (or now), a retry named by the shards it retries."""
    spans = []
    for s in job.shards:
        note = f" · retry of shard {', '.join(map(str, s.homes))}" if s.attempt > 1 and s.homes else ""
        if s.status is ShardStatus.PENDING and s.deferred:
            note += " · waits"
        spans.append(Span(f"shard {s.index}" + (f" (attempt {s.attempt})" if s.attempt > 1 else ""), s.submitted_at,
                          s.finished_at if s.status.is_terminal() else None, s.status.value, note))  # fmt: skip
    return timeline(spans[:MAX_TIMELINE], time.time()) + (
        f"<div class='legend'>the first {MAX_TIMELINE} of {len(spans):,} shards</div>" if len(spans) > MAX_TIMELINE else ""
    )


def render_job_card(job: BatchJob) -> str:
    """One HTML page describing a job and its shards."""
    estimate, currency = job.estimate, job.estimate.currency
    first = [s for s in job.shards if s.attempt == 1]
    statuses = job.status_counts()
    state = "collected" if job.collected else ("cancelled" if job.cancelled else "open")
    if state == "open" and job.open_shards:
        state += f", running {job.age_hours():.1f} h"
    subtitle = (
        f"job <code>{text(job.job_id)}</code> · {text(job.provider)} · <code>{text(job.endpoint)}</code> · "
        f"model <code>{text(job.model)}</code> · {state} · created {_when(job.created_at)}"
    )
    summary = figures([
        ("requests", number(sum(s.requests for s in first))),
        ("shards", number(len(job.shards))),
        ("estimated prompt tokens", number(estimate.prompt_tokens)),
        ("estimated output tokens", number(estimate.output_tokens)),
        ("estimated cost (batch)", money(estimate.batch_cost, currency)),
        ("same work realtime", money(estimate.realtime_cost, currency)),
        ("saved by batching", money(estimate.realtime_cost - estimate.batch_cost, currency)),
    ])  # fmt: skip
    note = ""
    if estimate.prices_as_of:
        exact = "" if estimate.tokens_exact else "; token counts approximate for this model"
        note = f"<div class='legend'>prices as of {text(estimate.prices_as_of)}{exact}</div>"
    rows = [
        (s.index, s.attempt, s.requests, s.prompt_tokens, s.status.value, s.ended.value if s.ended else None,
         f"{s.request_counts.completed:,} / {s.request_counts.failed:,} / {s.request_counts.total:,}",
         s.batch_id, _when(s.submitted_at))
        for s in job.shards
    ]  # fmt: skip
    shards = table(
        ["shard", "attempt", "requests", "prompt tokens", "status", "reason", "done / failed / total", "batch id", "submitted"],
        rows, numeric=(0, 1, 2, 3),
    )  # fmt: skip
    problems = [(s.index, e.get("line"), e.get("code"), e.get("message")) for s in job.shards for e in s.errors]
    attention = "".join(f"<p class='warning'>{text(warning)}</p>" for warning in [*expiring(job), *_too_long(job)])
    calls = ", ".join(f"{text(k)} {v}" for k, v in sorted(job.api_calls.items())) or "none yet"
    return page(
        f"Batch job {job.name}",
        subtitle,
        section("Needs attention", attention) if attention else "",
        section("Estimate", summary, note),
        section("Shards", parts_bar(statuses), _timeline(job), shards),
        section("Validation errors", table(["shard", "line", "code", "message"], problems)) if problems else "",
        section("Provider calls", f"<div class='legend'>{calls}</div>"),
    )
