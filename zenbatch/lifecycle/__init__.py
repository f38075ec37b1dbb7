"""The batch lifecycle as library functions: prepare, submit, poll, collect, plan retries, cancel.

The caller owns persistence: every function takes ``save`` and calls it with the job after
each change. Crash safety does not rest on it alone: a batch is found again by its shard's
sha256 (see ``submit``), so a state saved before a crash never leads to a second batch.
"""

from zenbatch.lifecycle.collect import Collection, InputRows, collect, is_final, plan_retries, results_view
from zenbatch.lifecycle.poll import PollReport, cancel, poll
from zenbatch.lifecycle.run import Outcome, advance, run_until_done
from zenbatch.lifecycle.submit import SubmitReport, prepare_job, submit

__all__ = [
    "Collection", "InputRows", "Outcome", "PollReport", "SubmitReport", "advance", "cancel", "collect", "is_final",
    "plan_retries", "poll", "prepare_job", "results_view", "run_until_done", "submit",
]  # fmt: skip
