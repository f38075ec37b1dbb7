"""``zenbatch results``: export a job's results table to CSV, Parquet or JSONL."""

from __future__ import annotations

import argparse
from pathlib import Path

from zenbatch.errors import ConfigError

FORMATS = {".csv", ".parquet", ".jsonl"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "results", help="export results (CSV, Parquet, JSONL)",
        description="Write the batch_results of a job (the latest collected job by default): one "
        "row per input row with the answer, parsed JSON, usage, cost and error.",
        epilog="examples:\n  zenbatch results --out results.parquet\n  zenbatch results 3f2a9c0d1e4b5a67 --out rows.csv\n"
        "  zenbatch results --version 4 --out rows.jsonl", formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("job_id", nargs="?", help="the job (default: the latest results)")
    parser.add_argument("--version", help="a pinned batch_results version instead")
    parser.add_argument("--out", required=True, help="the file to write; the format follows its extension")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from zenbatch.cli._zenml import use_zenml
    from zenbatch.parts import frames_of, write_results

    out = Path(args.out)
    if out.suffix not in FORMATS:
        raise ConfigError(f"--out {out}: use a .csv, .parquet or .jsonl file name")
    use_zenml()
    from zenbatch.zenml_ext.registry import RESULTS_ARTIFACT, newest_of_job, results_version

    version = newest_of_job(RESULTS_ARTIFACT, args.job_id) if args.job_id else results_version(args.version)
    if version is None:
        raise ConfigError(f"job {args.job_id} has no results yet: zenbatch wait (or zenbatch status)")
    rows = write_results(frames_of(version.load()), out)  # a part at a time: any size fits
    print(f"{rows:,} rows -> {out}")
    return 0
