"""``zenbatch cancel``: cancel a job's open batches; what finished is kept and collected."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "cancel", help="cancel a job's open batches (finished rows are kept)",
        description="Cancel every open batch of a job. Nothing more is submitted for it; the loader "
        "collects the rows that finished and marks the rest failed with batch_cancelled.",
        epilog="example:\n  zenbatch cancel 3f2a9c0d1e4b5a67", formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("job_id", help="the job's id (zenbatch status)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from zenbatch.cli._zenml import use_zenml

    use_zenml()
    from zenbatch.zenml_ext.cancel import cancel_job

    cancelled = cancel_job(args.job_id)
    print(f"cancel requested for {cancelled} batch(es) of job {args.job_id}; `zenbatch collect` keeps what finished")
    return 0
