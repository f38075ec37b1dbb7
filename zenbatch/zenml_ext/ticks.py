"""When a schedule fires next: cron, interval or once, bounded by start and end times.

Pure functions over plain values, so the local scheduling orchestrator's timing is testable
without ZenML or a clock. Times are UTC; a naive datetime (as ZenML stores them) is read as UTC.

Semantics, as a cron daemon or a Kubernetes CronJob would do it:

- cron: the first match strictly after ``max(now, start_time)``;
- interval: the first tick at ``start_time`` (or now, when that has passed or is unset), then on the
  grid ``start_time + k * interval``; ticks missed while a run took longer are skipped, not caught up;
- once: at ``run_once_start_time`` (or now, when that has passed), then never again;
- no tick after ``end_time``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from zenbatch.errors import ConfigError


def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


@dataclass(frozen=True)
class Timing:
    """The timing fields of a schedule (those of ZenML's ``Schedule``)."""

    cron_expression: str | None = None
    interval: dt.timedelta | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    run_once_start_time: dt.datetime | None = None

    def __post_init__(self) -> None:
        given = [n for n in ("cron_expression", "interval", "run_once_start_time") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ConfigError(
                f"a schedule needs exactly one of cron_expression, interval_second or run_once_start_time; got "
                f"{', '.join(given) or 'none'}: fix the `schedule:` section of the pipeline config"
            )
        if self.interval is not None and self.interval.total_seconds() <= 0:
            raise ConfigError(f"the schedule's interval must be positive, not {self.interval.total_seconds()} s")
        if self.cron_expression is not None:
            from croniter import croniter

            if not croniter.is_valid(self.cron_expression) or len(self.cron_expression.split()) != 5:
                raise ConfigError(
                    f"cron expression {self.cron_expression!r} is not a valid 5-field cron "
                    "(minute hour day month weekday, UTC); the 6-field AWS form is for SageMaker stacks only"
                )


def next_tick(timing: Timing, now: dt.datetime, last_tick: dt.datetime | None = None) -> dt.datetime | None:
    """The next time the schedule fires after ``last_tick``, seen at ``now``; None when it never will.

    Args:
        timing: the schedule's timing.
        now: the current time.
        last_tick: the previous tick's planned time, or None before the first.
    """
    now = as_utc(now) or now
    last = as_utc(last_tick)
    start = as_utc(timing.start_time)
    end = as_utc(timing.end_time)
    if timing.run_once_start_time is not None:
        once = as_utc(timing.run_once_start_time) or now
        tick = None if last is not None else max(once, now)
    elif timing.interval is not None:
        tick = _interval_tick(timing.interval, start or now, now, last)
    else:
        from croniter import croniter

        base = max(now, start) if start else now
        if last is not None:
            base = max(base, last)
        tick = croniter(timing.cron_expression, base).get_next(dt.datetime)
    if tick is not None and end is not None and tick > end:
        return None
    return tick


def _interval_tick(interval: dt.timedelta, start: dt.datetime, now: dt.datetime, last: dt.datetime | None) -> dt.datetime:
    if last is None:
        return max(start, now)
    # The first grid point after the last tick that is not in the past: missed ticks are skipped.
    after_last = math.floor((last - start) / interval) + 1
    not_past = math.ceil((now - start) / interval)
    return start + max(after_last, not_past) * interval
