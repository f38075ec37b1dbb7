"""Trying a job before paying for its batch: its first rows sent to the provider's realtime endpoint.

The requests are rendered exactly as the batch would send them, sent a few at a time (bounded
concurrency, transient failures retried), and their answers parsed and joined into the same
results table as a batch's, priced at the realtime price. Nothing is uploaded and no batch is
created.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pandas as pd
from pydantic import BaseModel, ConfigDict

from zenbatch.config import JobConfig
from zenbatch.errors import ConfigError
from zenbatch.estimate import load_requests, read_job_dataset
from zenbatch.pricing import PriceTable
from zenbatch.providers.base import BatchProvider
from zenbatch.results import SUCCEEDED, ResultParser, join_results, summarize

DEFAULT_ROWS = 5
MAX_ROWS = 1_000  # a preview, not a realtime job: batches cost half


class Preview(BaseModel):
    """The answers to a job's first rows, and what they cost.

    Attributes:
        results: one row per input row, the columns of ``batch_results``, cost at the realtime price.
        realtime_cost: what these rows cost now, at the realtime price.
        batch_cost: what the same rows would cost in the batch.
        currency: the price table's currency.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    results: pd.DataFrame
    realtime_cost: float
    batch_cost: float
    currency: str

    @property
    def succeeded(self) -> int:
        return int((self.results["status"] == SUCCEEDED).sum())


def preview(config: JobConfig, provider: BatchProvider, *, rows: int = DEFAULT_ROWS, concurrency: int = 4,
            frame: pd.DataFrame | None = None) -> Preview:  # fmt: skip
    """Send the first ``rows`` rows of the job's dataset to the realtime endpoint, ``concurrency`` at a time.

    Raises:
        ConfigError: a job of an existing batch file, or ``rows`` out of 1..1,000.
        InputValidationError: the rows are invalid, as the batch would find them.
    """
    if config.input_file is not None:
        raise ConfigError("preview renders a dataset's rows; for an existing batch file, send a few of its lines yourself")
    if not 1 <= rows <= MAX_ROWS:
        raise ConfigError(f"--rows {rows}: preview 1 to {MAX_ROWS:,} rows (the batch costs half as much for the rest)")
    frame = (frame if frame is not None else read_job_dataset(config)).head(rows).reset_index(drop=True)
    requests = load_requests(config, frame)
    lines = [orjson.loads(requests.line(i)) for i in range(len(requests))]
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        answers = list(pool.map(lambda line: provider.realtime(line["url"], line["body"]), lines))
    parser = ResultParser(structured=config.rows_template.is_structured)
    parser.feed([_as_output_line(line["custom_id"], status, body) for line, (status, body) in zip(lines, answers)], "preview")
    table = config.price_table()
    ids = [line["custom_id"] for line in lines]
    results = join_results(frame, ids, parser.frame(), table=_at_realtime(table), pricing_model=config.rows_template.pricing_model)
    realtime_cost = float(summarize(results)["cost_usd"])
    return Preview(results=results, realtime_cost=realtime_cost, batch_cost=realtime_cost * table.batch_discount, currency=table.currency)


def _as_output_line(custom_id: str, status: int, body: dict[str, Any]) -> bytes:
    """A realtime answer written as a batch output line (a refusal as its error line), so it parses the same way."""
    return orjson.dumps({"custom_id": custom_id, "response": {"status_code": status, "body": body}, "error": None})


def _at_realtime(table: PriceTable) -> PriceTable:
    return table.model_copy(update={"batch_discount": 1.0})
