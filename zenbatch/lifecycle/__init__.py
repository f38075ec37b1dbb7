"""The batch lifecycle as library functions: prepare, submit, poll, collect, resubmit, cancel.

The caller owns persistence: every function takes ``save`` and calls it with the job after
each change, so a crash at any point loses nothing and pays for nothing twice.
"""

from zenbatch.lifecycle.collect import Collection, collect, download, results_table, resubmit
from zenbatch.lifecycle.poll import PollReport, cancel, poll
from zenbatch.lifecycle.run import Outcome, advance, run_until_done
from zenbatch.lifecycle.submit import SubmitReport, prepare_job, submit

__all__ = [
    "Collection", "Outcome", "PollReport", "SubmitReport", "advance", "cancel", "collect", "download",
    "poll", "prepare_job", "results_table", "resubmit", "run_until_done", "submit",
]  # fmt: skip
