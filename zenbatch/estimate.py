"""Estimates: shards, tokens and cost of a job at batch and realtime prices, before any upload."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from zenbatch.batchfile import BatchFileSummary, peek_batch_file, read_batch_file
from zenbatch.config import JobConfig
from zenbatch.datasets import read_dataset
from zenbatch.errors import ConfigError, LimitError
from zenbatch.ledger import Split
from zenbatch.pricing import Cost, JobEstimate, ModelPrice, PriceTable, check_budget, cost_of
from zenbatch.progress import Progress, silent
from zenbatch.providers.profile import Dialect
from zenbatch.requests import RequestChunk, RequestSet, build_requests
from zenbatch.shards import Shard, ShardPlan, plan_shards
from zenbatch.tokens import TokenCounter


class ShardEstimate(Shard):
    """A planned shard and what it costs."""

    cost: Cost


class Estimate(BaseModel):
    """What a job will cost, shard by shard.

    Attributes:
        model: the model written in the lines; ``pricing_model`` the one priced and tokenized.
        tokens_exact: False when the tokenizer was guessed (unknown model): counts are approximate.
        output_tokens: expected output tokens (max_tokens per request, or the configured expectation).
        per_request: prompt tokens by custom_id, when asked for.
        reused: rows not sent because an earlier job answered the same request (see ``zenbatch.ledger``).
        waiting: rows not sent because another open job sends the same request.
        reuse_saving: what the reused rows would have cost (batch price).
        work: the digest of every row's custom_id and request, sent or not (``ledger.Split.digest``).
    """

    source: str
    endpoint: str | None
    model: str | None
    pricing_model: str | None
    encoding: str
    tokens_exact: bool
    prices_as_of: str
    currency: str
    requests: int
    bytes: int
    prompt_tokens: int
    output_tokens: int
    shards: list[ShardEstimate]
    total: Cost
    budget_usd: float | None = None
    per_request: dict[str, int] | None = None
    reused: int = 0
    waiting: int = 0
    reuse_saving: float = 0.0
    work: str = ""

    def for_job(self) -> JobEstimate:
        """The figures a job's state keeps of this estimate."""
        return JobEstimate(
            requests=self.requests, prompt_tokens=self.prompt_tokens, output_tokens=self.output_tokens,
            batch_cost=self.total.batch, realtime_cost=self.total.realtime, currency=self.currency,
            prices_as_of=self.prices_as_of, tokens_exact=self.tokens_exact, reused=self.reused,
            waiting=self.waiting, reuse_saving=self.reuse_saving,
        )  # fmt: skip


def estimate_plan(
    plan: ShardPlan,
    table: PriceTable,
    *,
    source: str,
    endpoint: str | None,
    model: str | None,
    pricing_model: str | None,
    counter: TokenCounter,
    budget_usd: float | None = None,
    split: Split | None = None,
) -> Estimate:
    """Price a plan; with ``split``, also the rows set aside (reused or waiting) and what reuse saves."""
    price = table.require(pricing_model or model or "")
    shards = [ShardEstimate(**dict(s), cost=cost_of(table, price, s.prompt_tokens, s.output_tokens)) for s in plan.shards]
    total = sum((s.cost for s in shards), Cost())
    return Estimate(
        source=source,
        endpoint=endpoint,
        model=model,
        pricing_model=pricing_model,
        encoding=counter.encoding,
        tokens_exact=counter.exact,
        prices_as_of=str(table.as_of),
        currency=table.currency,
        requests=plan.requests,
        bytes=plan.bytes,
        prompt_tokens=plan.prompt_tokens,
        output_tokens=plan.output_tokens,
        shards=shards,
        total=total,
        budget_usd=budget_usd,
        **_set_aside(split, table, price),
    )


def _set_aside(split: Split | None, table: PriceTable, price: ModelPrice) -> dict[str, object]:
    """The rows a split did not send, and what the reused ones would have cost (batch price)."""
    if split is None:
        return {}
    return {"reused": split.counts["reused"], "waiting": split.counts["waiting"], "work": split.digest,
            "reuse_saving": cost_of(table, price, *split.reused_tokens).batch}  # fmt: skip


def _recording(chunks: Iterable[RequestChunk], into: dict[str, int] | None) -> Iterator[RequestChunk]:
    for chunk in chunks:
        if into is not None and chunk.prompt_tokens is not None:
            into.update(zip(chunk.custom_ids, chunk.prompt_tokens))
        yield chunk


def _reporting(chunks: Iterable[RequestChunk], total: int, progress: Progress) -> Iterator[RequestChunk]:
    done = 0
    progress("building requests", 0, total)
    for chunk in chunks:
        yield chunk
        done += len(chunk.custom_ids)
        progress("building requests", done, total)


def read_job_dataset(config: JobConfig) -> pd.DataFrame:
    """The rows of the job's dataset file, cut to ``dataset.limit``.

    Raises:
        ConfigError: the job has no dataset file (none at all, or a ZenML artifact).
        DatasetError: the file cannot be read.
    """
    dataset = config.dataset
    if dataset is None:
        raise ConfigError("the config has no dataset: add dataset.path (a .csv, .parquet or .jsonl file)")
    if dataset.path is None:
        raise ConfigError(
            f"the dataset is the ZenML artifact {dataset.artifact!r}, which only the submit pipeline "
            "reads: run `zenbatch submit` (its plan_batch step logs the estimate before anything is uploaded)"
        )
    frame = read_dataset(config.resolve(dataset.path))
    return frame.head(dataset.limit) if dataset.limit else frame


def _image_root(config: JobConfig) -> Path | None:
    template = config.rows_template
    if not template.image_root:
        return None
    root = config.resolve(template.image_root)
    if isinstance(root, str):
        raise ConfigError(
            f"template.image_root {root!r}: local images are read from a folder on this machine; "
            "give images in an object store as URLs in the image column instead"
        )
    return root


def load_requests(config: JobConfig, frame: pd.DataFrame | None = None) -> RequestSet:
    """The job's dataset (read from its file, or the rows given), validated against its template.

    Problems name the dataset's file (or artifact), and local images are found next to the file
    unless the template sets ``image_root``, whether the rows are read here or given.
    """
    dataset = config.dataset
    path = config.resolve(dataset.path) if dataset is not None and dataset.path is not None else None
    source = str(path) if path is not None else config.dataset_source()
    if frame is None:
        frame = read_job_dataset(config)
    root = _image_root(config)
    template = config.rows_template
    dialect = config.provider.dialect(template.model, template.pricing_model)  # shards under the model's queue limit
    return build_requests(frame, template, dialect, source=source, image_root=root)


def estimate_job(
    config: JobConfig,
    frame: pd.DataFrame | None = None,
    *,
    out_dir: str | Path | None = None,
    per_request: bool = False,
    enforce_budget: bool = True,
    progress: Progress = silent,
    split: Split | None = None,
) -> Estimate:
    """Validate, plan (and with ``out_dir`` write) the shards of a job, and price them.

    ``progress`` hears ``("building requests", rows done, rows)`` after each chunk of rows.
    With ``split``, rows an earlier or an open job answers are set aside (not sent, not priced).

    Raises:
        InputValidationError, LimitError: bad rows or limits, before anything is written.
        BudgetExceededError: above ``budget_usd``, when ``enforce_budget``.
    """
    requests = load_requests(config, frame)
    template = config.rows_template
    limits = requests.dialect.limits
    if not config.sharding and len(requests) > limits.max_requests:  # known before any line is built
        raise LimitError(
            f"{config.dataset_source() or 'the dataset'}: {len(requests):,} requests, more than one batch file "
            f"may hold ({limits.max_requests:,} for provider {config.provider.kind}), and sharding is off; "
            "set `sharding: true` in the job config, or split the dataset"
        )
    table = config.price_table()
    table.require(template.pricing_model)  # an unpriced model is refused before any shard is written
    counter = TokenCounter(template.pricing_model)
    recorded: dict[str, int] | None = {} if per_request else None
    chunks = _reporting(_recording(requests.iter_chunks(counter=counter), recorded), len(requests), progress)
    plan = plan_shards(
        split.chunks(chunks) if split is not None else chunks,
        requests.dialect.limits,
        out_dir=out_dir,
        sharding=config.sharding,
        embeddings=template.endpoint == "/v1/embeddings",
        source=config.dataset_source(),
        allow_empty=split is not None,
    )
    estimate = estimate_plan(
        plan,
        table,
        source=config.dataset_source() or "dataframe",
        endpoint=requests.url,
        model=requests.model,
        pricing_model=template.pricing_model,
        counter=counter,
        budget_usd=config.budget_usd,
        split=split,
    )
    estimate.per_request = recorded
    if enforce_budget:
        check_budget(estimate.total, config.budget_usd, table.currency)
    return estimate


def estimate_file(
    path: str | Path,
    *,
    dialect: Dialect | None = None,
    table: PriceTable | None = None,
    base_model: str | None = None,
    expected_output_tokens: int | None = None,
    per_request: bool = False,
    budget_usd: float | None = None,
    out_dir: str | Path | None = None,
    split: Split | None = None,
    rewrite: bool = False,
    unchecked: list[str] | None = None,
) -> Estimate:
    """Validate, plan (and with ``out_dir`` write) and price an existing batch input file.

    Every line must be written in ``dialect``'s style (or is rewritten to it, with ``rewrite``);
    with ``split``, lines an earlier or an open job answers are set aside, as for a dataset.
    """
    dialect = dialect or Dialect()
    table = table or PriceTable.default()
    url, model, _ = peek_batch_file(path) if Path(path).is_file() else (None, None, {})
    counter = TokenCounter(base_model or model or "")
    summary = BatchFileSummary()
    recorded: dict[str, int] | None = {} if per_request else None
    chunks = _recording(read_batch_file(path, counter=counter, expected_output_tokens=expected_output_tokens, summary=summary,
                                        dialect=dialect, rewrite=rewrite, unchecked=unchecked or ()), recorded)  # fmt: skip
    plan = plan_shards(
        split.chunks(chunks) if split is not None else chunks,
        dialect.limits,
        out_dir=out_dir,
        embeddings=bool(url and url.endswith("/embeddings")),
        source=str(path),
        allow_empty=split is not None,
    )
    estimate = estimate_plan(
        plan,
        table,
        source=str(path),
        endpoint=summary.url,
        model=summary.model,
        pricing_model=base_model or summary.model,
        counter=counter,
        budget_usd=budget_usd,
        split=split,
    )
    estimate.per_request = recorded
    check_budget(estimate.total, budget_usd, table.currency)
    return estimate
