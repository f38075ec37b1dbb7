import pytest

from zenbatch.errors import BudgetExceededError, ConfigError
from zenbatch.pricing import Cost, PriceTable, check_budget, cost_of


def test_default_table_is_dated_and_batch_is_half():
    table = PriceTable.default()
    assert table.as_of.year >= 2025
    assert table.batch_discount == 0.5
    cost = cost_of(table, table.require("gpt-4o"), 1_000_000, 1_000_000)
    assert cost.realtime == pytest.approx(12.50)
    assert cost.batch == pytest.approx(6.25)
    assert cost.saved == pytest.approx(6.25)


def test_dated_snapshots_use_the_family_price_and_unknown_models_say_what_to_do():
    table = PriceTable.default()
    assert table.require("gpt-4o-mini-2024-07-18") == table.require("gpt-4o-mini")
    with pytest.raises(ConfigError, match="pricing.models.mystery"):
        table.require("mystery")


def test_overrides_merge_by_model():
    table = PriceTable.default().with_overrides({"batch_discount": 0.4, "models": {"mine": {"input": 1, "output": 2}}})
    assert table.require("mine").output == 2
    assert table.require("gpt-4o").input == 2.50
    assert table.batch_discount == 0.4


def test_cached_tokens_use_the_cached_price():
    table = PriceTable.default()
    price = table.require("gpt-4o")
    assert cost_of(table, price, 1_000_000, 0, cached_tokens=1_000_000).realtime == pytest.approx(1.25)


def test_budget_refuses_above_cap():
    check_budget(Cost(input_batch=0.5), 1.0)
    with pytest.raises(BudgetExceededError, match="above the budget"):
        check_budget(Cost(input_batch=0.5, output_batch=0.6), 1.0)


@pytest.mark.parametrize(
    "value, currency, shown",
    [
        (None, None, "—"),
        (0.0, None, "$0.0000"),
        (4.6e-05, None, "$0.000046"),
        (-3.25e-07, None, "$-0.00000033"),
        (0.0123, None, "$0.0123"),
        (1234.5, None, "$1,234.50"),
        (0.5, "USD", "0.5000 USD"),
        (2.0, "EUR", "2.00 EUR"),
    ],
)
def test_money_is_written_one_way_for_the_cli_and_the_cards(value, currency, shown):
    from zenbatch.pricing import money

    assert money(value, currency) == shown
