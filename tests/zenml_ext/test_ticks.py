"""When the local scheduling orchestrator fires: cron, interval, once, start and end times."""

from __future__ import annotations

import datetime as dt

import pytest

from zenbatch.errors import ConfigError
from zenbatch.zenml_ext.ticks import Timing, next_tick

T0 = dt.datetime(2026, 11, 25, 12, 0, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_an_interval_fires_now_then_on_its_grid():
    timing = Timing(interval=dt.timedelta(seconds=10), start_time=T0)
    assert next_tick(timing, now=at(0)) == at(0)
    assert next_tick(timing, now=at(3), last_tick=at(0)) == at(10)
    assert next_tick(timing, now=at(10), last_tick=at(10)) == at(20)


def test_an_interval_skips_ticks_missed_while_a_run_was_longer():
    timing = Timing(interval=dt.timedelta(seconds=10), start_time=T0)
    assert next_tick(timing, now=at(25), last_tick=at(0)) == at(30)


def test_an_interval_starting_later_waits_for_its_start_and_a_past_start_fires_at_once():
    assert next_tick(Timing(interval=dt.timedelta(minutes=1), start_time=at(90)), now=at(0)) == at(90)
    assert next_tick(Timing(interval=dt.timedelta(minutes=1), start_time=at(-500)), now=at(0)) == at(0)


def test_naive_times_are_read_as_utc():
    timing = Timing(interval=dt.timedelta(seconds=10), start_time=T0.replace(tzinfo=None))
    assert next_tick(timing, now=at(3), last_tick=at(0).replace(tzinfo=None)) == at(10)


def test_cron_fires_on_the_next_match_after_now_or_the_start():
    timing = Timing(cron_expression="*/2 * * * *")
    assert next_tick(timing, now=at(30)) == at(120)
    assert next_tick(timing, now=at(121), last_tick=at(120)) == at(240)
    assert next_tick(Timing(cron_expression="0 * * * *", start_time=at(3700)), now=at(0)) == at(7200)


def test_a_one_off_schedule_fires_once():
    timing = Timing(run_once_start_time=at(5))
    assert next_tick(timing, now=at(0)) == at(5)
    assert next_tick(timing, now=at(6), last_tick=at(5)) is None


def test_nothing_fires_after_the_end_time():
    timing = Timing(interval=dt.timedelta(seconds=10), start_time=T0, end_time=at(15))
    assert next_tick(timing, now=at(1), last_tick=at(0)) == at(10)
    assert next_tick(timing, now=at(11), last_tick=at(10)) is None


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({}, "exactly one of"),
        ({"cron_expression": "* * * * *", "interval": dt.timedelta(seconds=5)}, "exactly one of"),
        ({"interval": dt.timedelta(seconds=0)}, "must be positive"),
        ({"cron_expression": "0/10 * * * ? *"}, "SageMaker"),
        ({"cron_expression": "every minute"}, "not a valid 5-field cron"),
    ],
)
def test_bad_timings_are_refused_with_what_to_fix(fields, says):
    with pytest.raises(ConfigError, match=says):
        Timing(**fields)
