"""``zenbatch preview``: a job's first rows through the provider's realtime endpoint, before the batch."""

from __future__ import annotations

import argparse
from pathlib import Path

from zenbatch.errors import ConfigError

EXAMPLES = """\
examples:
  zenbatch preview --config reviews --rows 5            # the sample job, on the local server
  zenbatch preview --config job.yaml --provider openai --rows 20 --concurrency 8
  zenbatch preview --config job.yaml --rows 50 --out preview.csv
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "preview", help="send a job's first rows to the realtime endpoint (try before the batch)",
        description="Render a job's first rows exactly as the batch would, send them to the provider's "
        "realtime endpoint a few at a time, and show the results table and what they cost at the "
        "realtime price. Nothing is uploaded and no batch is created.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--config", default="reviews", help="a job config (a file, or a shipped job's name; default reviews)")
    parser.add_argument("--provider", help="openai, azure, local or a provider YAML file (default: the job's own)")
    parser.add_argument("--rows", type=int, default=5, help="rows to send (default 5, at most 1000)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight at once (default 4)")
    parser.add_argument("--out", help="also write the results table (.csv, .parquet or .jsonl)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from zenbatch.config import JobConfig
    from zenbatch.defaults import config_path
    from zenbatch.parts import write_results
    from zenbatch.preview import preview
    from zenbatch.pricing import money
    from zenbatch.providers.factory import make_provider
    from zenbatch.reports.html import shorten

    if args.concurrency < 1:
        raise ConfigError(f"--concurrency {args.concurrency}: send at least 1 request at a time")
    provider_file = config_path("providers", args.provider) if args.provider else None
    config = JobConfig.from_yaml(config_path("jobs", args.config), provider=provider_file)
    result = preview(config, make_provider(config.provider), rows=args.rows, concurrency=args.concurrency)
    table = Table(title=f"{config.name}: {len(result.results)} row(s) through the realtime endpoint")
    for column in ("custom_id", "status", "answer", "tokens in / out", "cost"):
        table.add_column(column)
    for row in result.results.itertuples():
        answer = row.content if row.status == "succeeded" else f"{row.error_code}: {row.error_message}"
        table.add_row(str(row.custom_id), str(row.status), shorten(answer, 80), f"{row.prompt_tokens:,} / {row.completion_tokens:,}",
                      money(row.cost_usd))  # fmt: skip
    console = Console()
    console.print(table)
    console.print(
        f"{result.succeeded} of {len(result.results)} succeeded; realtime cost {money(result.realtime_cost)}, "
        f"the same rows in the batch {money(result.batch_cost)}", highlight=False,
    )  # fmt: skip
    if args.out:
        write_results(iter([result.results]), Path(args.out))
        console.print(f"{len(result.results):,} rows -> {args.out}", highlight=False)
    return 0 if result.succeeded == len(result.results) else 1
