"""``zenbatch wait``: progress bars until the open jobs' batches finish, then collect."""

from __future__ import annotations

import argparse
import time

EXAMPLES = """\
examples:
  zenbatch wait                       # until every open job's batches finished, then collect
  zenbatch wait --interval 60 --timeout 86400
  zenbatch wait --no-collect
Exit codes: 0 done, 1 timed out (the batches keep running; wait again later).
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "wait", help="show progress until open jobs finish, then collect", epilog=EXAMPLES,
        description="Poll the provider for every open job (one retrieve per open batch per poll) "
        "and show completed / failed / total with an ETA; when all batches finished, run the "
        "loader once to collect, resubmit retryable failures, and wait for those too.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between polls (default 10)")
    parser.add_argument("--timeout", type=float, help="give up after this many seconds (exit 1)")
    parser.add_argument("--no-collect", action="store_true", help="only wait; do not run the loader")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from zenbatch.cli._zenml import use_zenml

    use_zenml()
    from zenbatch.zenml_ext.overview import list_jobs, live_progress, load_job
    from zenbatch.zenml_ext.providers import provider_for
    from zenbatch.zenml_ext.runs import run_loader_once

    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("failed {task.fields[failed]}"), TimeRemainingColumn())  # fmt: skip
    while True:
        open_jobs = [load_job(j.job_id) for j in list_jobs(1000) if j.state == "open"]
        if not open_jobs:
            print("no open jobs")
            return 0
        interval = max([args.interval, *(provider_for(job).min_poll_seconds for job in open_jobs)])
        if interval > args.interval:
            print(f"polling every {interval:g} s: a provider of these jobs asks for no more (provider.min_poll_seconds)")
        with Progress(*columns) as progress:
            tasks = {job.job_id: progress.add_task(job.name, total=None, failed=0) for job in open_jobs}
            while True:
                states = [live_progress(job) for job in open_jobs]
                for state in states:
                    progress.update(tasks[state.job_id], total=state.total, completed=state.completed + state.failed, failed=state.failed)
                if all(state.open_shards == 0 for state in states):
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    print("timed out; the batches keep running: zenbatch wait again later")
                    return 1
                time.sleep(interval)
        if args.no_collect:
            return 0
        report = run_loader_once()
        if not report.still_open:
            print(f"collected {len(report.collected)} job(s): zenbatch status, zenbatch results JOB_ID --out FILE")
            return 0
        print(f"{report.still_open} job(s) resubmitted retryable failures; waiting for them")
