"""``zenbatch status``: the jobs, their shards, counts and cost."""

from __future__ import annotations

import argparse

EXAMPLES = """\
examples:
  zenbatch status            # the saved state of recent jobs
  zenbatch status --live     # ask the provider for the open batches' counts now
  zenbatch status --json
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "status", help="a table of jobs and shards, counts and cost", epilog=EXAMPLES,
        description="List the batch jobs recorded in ZenML: state, shards by status, requests, "
        "estimated and actual cost.", formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--live", action="store_true", help="retrieve open batches from the provider (read only)")
    parser.add_argument("--limit", type=int, default=20, help="jobs to show (default 20)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import orjson
    from rich.console import Console
    from rich.table import Table

    from zenbatch.cli._zenml import use_zenml
    from zenbatch.pricing import money

    use_zenml()
    from zenbatch.zenml_ext.overview import list_jobs, live_progress, load_job

    jobs = list_jobs(args.limit)
    live = {j.job_id: live_progress(load_job(j.job_id)) for j in jobs if args.live and j.state == "open"}
    if args.json:
        listed = [{**j.model_dump(), "live": live[j.job_id].model_dump() if j.job_id in live else None} for j in jobs]
        print(orjson.dumps(listed, option=orjson.OPT_INDENT_2).decode())
        return 0
    if not jobs:
        print("no jobs yet: zenbatch submit")
        return 0
    table = Table(title="zenbatch jobs")
    for column in ("job", "id", "state", "provider / model", "requests", "shards", "rows ok / failed / missing", "cost (est. / actual)"):
        table.add_column(column)
    for j in jobs:
        shards = ", ".join(f"{k} {v}" for k, v in sorted(j.shards.items()))
        if j.job_id in live:
            p = live[j.job_id]
            rows = f"{p.completed:,} / {p.failed:,} / running (of {p.total:,})"
        elif j.results:
            rows = f"{j.results.get('succeeded', 0):,} / {j.results.get('failed', 0):,} / {j.results.get('missing', 0):,}"
        else:
            rows = "—"
        cost = f"{money(j.estimated_batch_cost)} / {money(j.results.get('cost_usd')) if j.results else '—'}"
        state = f"{j.state}, {j.running_hours:.1f} h" if j.state == "open" and j.running_hours else j.state
        table.add_row(j.name, j.job_id, state, f"{j.provider} / {j.model}", f"{j.requests:,}", shards, rows, cost)
    console = Console()
    console.print(table)
    for j in jobs:
        for shard, why in j.deferred.items():
            console.print(f"{j.name} ({j.job_id}) shard {shard} waits: {why}", highlight=False)
    return 0
