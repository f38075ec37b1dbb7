"""Prices and costs: a dated price table kept as data, batch against realtime.

The table ships as ``zenbatch/data/prices.yaml``; a job config may override entries or the
whole table. Costs are in the table's currency; batch prices are ``batch_discount`` times the
realtime (standard) price.
"""

from __future__ import annotations

import math
from datetime import date
from importlib import resources
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

from zenbatch.errors import BudgetExceededError, ConfigError

PER_TOKENS = 1_000_000


class ModelPrice(BaseModel):
    """Realtime price per 1M tokens."""

    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)


class PriceTable(BaseModel):
    """A dated price table."""

    model_config = ConfigDict(extra="forbid")
    as_of: date
    currency: str = "USD"
    batch_discount: float = Field(default=0.5, gt=0, le=1)
    models: dict[str, ModelPrice]

    @classmethod
    def default(cls) -> PriceTable:
        text = resources.files("zenbatch.data").joinpath("prices.yaml").read_text(encoding="utf-8")
        return cls.model_validate(yaml.safe_load(text))

    def with_overrides(self, overrides: dict[str, Any] | None) -> PriceTable:
        """A copy with a config's ``pricing:`` section applied (entries merged by model)."""
        if not overrides:
            return self
        data = self.model_dump()
        models = {**data["models"], **(overrides.get("models") or {})}
        merged = {**data, **{k: v for k, v in overrides.items() if k != "models"}, "models": models}
        try:
            return PriceTable.model_validate(merged)
        except ValueError as exc:
            raise ConfigError(f"invalid pricing override: {exc}") from None

    def price(self, model: str) -> ModelPrice | None:
        """The price of a model: exact name, else the longest known prefix (dated snapshots)."""
        if model in self.models:
            return self.models[model]
        matches = [name for name in self.models if model.startswith(name + "-") or model.startswith(name + ":")]
        return self.models[max(matches, key=len)] if matches else None

    def require(self, model: str) -> ModelPrice:
        found = self.price(model)
        if found is None:
            raise ConfigError(
                f"no price for model {model!r} in the price table (as of {self.as_of}); add it under "
                f"pricing.models.{model} in your config, or set template.base_model to a priced model"
            )
        return found


class Cost(BaseModel):
    """Input and output cost, at batch and at realtime prices."""

    input_tokens: int = 0
    output_tokens: int = 0
    input_batch: float = 0.0
    output_batch: float = 0.0
    input_realtime: float = 0.0
    output_realtime: float = 0.0

    @property
    def batch(self) -> float:
        return self.input_batch + self.output_batch

    @property
    def realtime(self) -> float:
        return self.input_realtime + self.output_realtime

    @property
    def saved(self) -> float:
        return self.realtime - self.batch

    def __add__(self, other: Cost) -> Cost:
        return Cost(**{k: getattr(self, k) + getattr(other, k) for k in Cost.model_fields})


class JobEstimate(BaseModel):
    """What a job was estimated at when it was submitted (kept in its state; the cards and the
    alert compare the actual cost and tokens with it).

    Attributes:
        output_tokens: the expected output tokens.
        batch_cost / realtime_cost: the cost of the rows sent, at batch and at realtime prices.
        tokens_exact: False when the tokenizer was guessed (unknown model): counts are approximate.
        reused / waiting: rows not sent: answered by an earlier job, or sent by another open job.
        reuse_saving: what the reused rows would have cost (batch price).
    """

    requests: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    batch_cost: float = 0.0
    realtime_cost: float = 0.0
    currency: str = "USD"
    prices_as_of: str = ""
    tokens_exact: bool = True
    reused: int = 0
    waiting: int = 0
    reuse_saving: float = 0.0


def cost_of(
    table: PriceTable,
    price: ModelPrice,
    input_tokens: int,
    output_tokens: int,
    cached_tokens: int = 0,
) -> Cost:
    """The cost of some tokens at one model's prices."""
    realtime_in, realtime_out = realtime_cost(price, input_tokens, output_tokens, cached_tokens)
    return Cost(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        input_batch=realtime_in * table.batch_discount,
        output_batch=realtime_out * table.batch_discount,
        input_realtime=realtime_in,
        output_realtime=realtime_out,
    )


def realtime_cost(price: ModelPrice, input_tokens: Any, output_tokens: Any, cached_tokens: Any = 0) -> tuple[Any, Any]:
    """The realtime cost of input and of output tokens, the one formula of zenbatch: numbers, or
    NumPy arrays of one row each. Cached input tokens (at most the input) cost ``cached_input``."""
    cached = np.minimum(cached_tokens, input_tokens)
    cached_price = price.cached_input if price.cached_input is not None else price.input
    return ((input_tokens - cached) * price.input + cached * cached_price) / PER_TOKENS, output_tokens * price.output / PER_TOKENS


def money(value: float | None, currency: str | None = None) -> str:
    """An amount as people read it: ``$0.0123`` (or ``0.0123 EUR`` with a currency); fractions of a
    cent keep two significant digits, amounts under one four decimals; None is an em dash."""
    if value is None:
        return "—"
    if value and abs(value) < 0.0001:  # two significant digits, in plain decimals: $0.000046, never $4.6e-05
        digits = f"{value:.{1 - math.floor(math.log10(abs(value)))}f}"
    else:
        digits = f"{value:,.4f}" if abs(value) < 1 else f"{value:,.2f}"
    return f"{digits} {currency}" if currency else f"${digits}"


def check_budget(total: Cost, budget: float | None, currency: str = "USD") -> None:
    """Refuse to go on when the batch cost is above the budget."""
    if budget is not None and total.batch > budget:
        raise BudgetExceededError(
            f"the estimated batch cost {total.batch:.4f} {currency} is above the budget of {budget:.4f} {currency}; "
            "nothing was submitted. Raise budget_usd, lower max_tokens, or submit fewer rows"
        )
