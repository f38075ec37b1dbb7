"""``zenbatch estimate``: validate, shard and price a batch before anything is uploaded."""

from __future__ import annotations

import argparse
import sys

import orjson

from zenbatch.cli._progress import terminal_progress
from zenbatch.config import JobConfig, ProviderConfig
from zenbatch.defaults import config_path
from zenbatch.errors import ConfigError, InputValidationError
from zenbatch.estimate import Estimate, estimate_file, estimate_job
from zenbatch.pricing import PriceTable

EXAMPLES = """\
examples:
  zenbatch estimate --config reviews                  # the shipped sample job
  zenbatch estimate --config job.yaml --provider openai
  zenbatch estimate requests.jsonl --base-model gpt-4o-mini
  zenbatch estimate requests.jsonl --provider azure --json
  zenbatch estimate --config job.yaml --per-request --json > tokens.json
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "estimate",
        help="validate, shard and price a batch (no upload)",
        description="Validate a batch, split it under the provider's limits and price it at batch and realtime prices. Nothing is uploaded.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", help="an existing batch input file (.jsonl)")
    parser.add_argument("--config", help="a job config (a file, or a shipped job's name) instead of a batch file")
    parser.add_argument(
        "--provider", help="openai, azure, local or a provider YAML file: its limits and line style (default: the job's own; openai for a batch file)"
    )
    parser.add_argument("--base-model", help="the model to tokenize and price as (for deployment or local names)")
    parser.add_argument("--expected-output-tokens", type=int, help="output tokens per request, when max_tokens overstates them")
    parser.add_argument("--budget", type=float, help="refuse (exit 1) when the batch cost is above this, in USD")
    parser.add_argument("--per-request", action="store_true", help="also list each request's prompt tokens by custom_id")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if bool(args.file) == bool(args.config):
        raise ConfigError("give either a batch file (zenbatch estimate FILE.jsonl) or --config CONFIG, not both or neither")
    try:
        if args.config:
            provider = config_path("providers", args.provider) if args.provider else None
            config = JobConfig.from_yaml(config_path("jobs", args.config), provider=provider)
            if args.budget is not None:
                config.budget_usd = args.budget
            if args.expected_output_tokens is not None:
                config.rows_template.expected_output_tokens = args.expected_output_tokens
            with terminal_progress("rows") as progress:
                estimate = estimate_job(config, per_request=args.per_request, progress=progress)
        else:
            estimate = estimate_file(
                args.file,
                dialect=ProviderConfig.from_yaml(config_path("providers", args.provider, "openai")).dialect(),
                table=PriceTable.default(),
                base_model=args.base_model,
                expected_output_tokens=args.expected_output_tokens,
                per_request=args.per_request,
                budget_usd=args.budget,
            )
    except InputValidationError as exc:
        if args.json:
            problems = [{**p.__dict__, "where": p.where()} for p in exc.problems]
            sys.stdout.write(orjson.dumps({"ok": False, "source": exc.source, "problems": problems}).decode() + "\n")
            return 2
        raise
    if args.json:
        data = estimate.model_dump(mode="json")
        data["total"].update(batch=estimate.total.batch, realtime=estimate.total.realtime, saved=estimate.total.saved)
        sys.stdout.write(orjson.dumps({"ok": True, **data}, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(render(estimate))
    return 0


def render(estimate: Estimate) -> str:
    """A human-readable estimate."""
    cur = estimate.currency
    lines = [
        f"source        {estimate.source}",
        f"endpoint      {estimate.endpoint}    model {estimate.model}"
        + (f" (priced as {estimate.pricing_model})" if estimate.pricing_model != estimate.model else ""),
        f"requests      {estimate.requests:,} in {len(estimate.shards)} shard(s), {estimate.bytes / 1e6:,.2f} MB",
        f"tokens        {estimate.prompt_tokens:,} prompt ({estimate.encoding}"
        + ("" if estimate.tokens_exact else ", approximate: unknown model, set base_model")
        + f"), up to {estimate.output_tokens:,} output",
        "",
        f"{'shard':>5} {'requests':>10} {'MB':>9} {'prompt tok':>12} {'output tok':>12} {'batch ' + cur:>12} {'realtime ' + cur:>14}",
    ]
    for s in estimate.shards:
        lines.append(
            f"{s.index:>5} {s.requests:>10,} {s.bytes / 1e6:>9.2f} {s.prompt_tokens:>12,} {s.output_tokens:>12,} "
            f"{s.cost.batch:>12.4f} {s.cost.realtime:>14.4f}"
        )
    total = estimate.total
    lines += [
        "",
        f"cost          {total.batch:.4f} {cur} at the batch price (input {total.input_batch:.4f}, output {total.output_batch:.4f})",
        f"              {total.realtime:.4f} {cur} at the realtime price: {total.saved:.4f} {cur} saved",
        f"prices        as of {estimate.prices_as_of}; output priced at the maximum expected",
    ]
    if estimate.budget_usd is not None:
        lines.append(f"budget        {estimate.budget_usd:.4f} {cur}: within budget")
    if estimate.per_request is not None:
        lines += ["", "custom_id\tprompt_tokens"] + [f"{k}\t{v}" for k, v in estimate.per_request.items()]
    return "\n".join(lines)
