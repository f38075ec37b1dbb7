"""``zenbatch submit``: run the submit pipeline (validate, shard, price, upload, create)."""

from __future__ import annotations

import argparse
from typing import Any

from zenbatch.errors import ConfigError

EXAMPLES = """\
examples:
  zenbatch submit                                     # the sample job (reviews) on the local server
  zenbatch submit --job job.yaml --provider openai    # your job on OpenAI (OPENAI_API_KEY)
  zenbatch submit --job job.yaml --provider my-azure.yaml
  zenbatch submit --config submit.yaml                # a pipeline config of yours (model, tags, parameters.job)
  zenbatch submit --job job.yaml --dataset-artifact reviews:3   # rows from a ZenML DataFrame artifact
  zenbatch submit --job job.yaml --no-reuse           # send every row, even those answered by an earlier job
  zenbatch submit requests.jsonl --provider openai    # an existing batch file, validated as estimate does
  zenbatch submit requests.jsonl --provider my-azure.yaml --rewrite-for azure   # OpenAI-style lines, for Azure
  zenbatch submit --job job.yaml --schedule --cron '0 2 * * *'   # nightly: each run sends only the new rows
Rows whose request an earlier job answered are not sent again (reuse: true in the job config, the
default for temperature 0); their answers are joined in, with reused_from naming that job and batch.
Then: zenbatch status, zenbatch wait, zenbatch collect.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "submit", help="submit a batch job (the submit pipeline)", epilog=EXAMPLES,
        description="Run the submit pipeline on the active ZenML stack: the dataset is validated, "
        "split under the provider's limits and priced; the batches are created and recorded as the "
        "artifact batch_job. Submitting the same work again reuses what was submitted.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("file", nargs="?", help="an existing batch input file (.jsonl, or an s3:// gs:// az:// URI) instead of --job")
    parser.add_argument("--rewrite-for", choices=["azure"], help="rewrite an OpenAI-style file's urls and models for Azure")
    parser.add_argument("--base-model", help="for a batch file: the model to tokenize and price as")
    parser.add_argument(
        "--job", help="a job config file (dataset + template); default: the pipeline config's parameters.job, else the shipped sample job"
    )
    parser.add_argument("--provider", help="openai, azure, local, or a provider YAML file (default: the job's own)")
    parser.add_argument(
        "--dataset-artifact", metavar="NAME[:VERSION]", help="take the rows from a DataFrame artifact instead of the job config's file"
    )
    parser.add_argument("--config", help="the pipeline config (default: the shipped submit config)")
    parser.add_argument("--no-reuse", action="store_true", help="send every row, even those an earlier job answered")
    parser.add_argument("--schedule", action="store_true", help="submit on a schedule (--interval or --cron): each run sends only new rows")
    parser.add_argument("--interval", type=int, help="seconds between scheduled submit runs")
    parser.add_argument("--cron", help="a cron expression for scheduled submit runs, e.g. '0 2 * * *' (6 fields on SageMaker)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import orjson

    from zenbatch.cli._zenml import use_zenml
    from zenbatch.pricing import money

    use_zenml()
    from zenbatch.zenml_ext.run_configs import file_job, submit_job
    from zenbatch.zenml_ext.runs import run_submit

    if args.file and (args.job or args.dataset_artifact):
        raise ConfigError("give a batch file or --job (with --dataset-artifact), not both")
    if args.rewrite_for and not args.file:
        raise ConfigError("--rewrite-for rewrites an existing batch file: give the file (zenbatch submit FILE.jsonl)")
    if args.file:
        job_config = file_job(args.file, args.provider, rewrite_for=args.rewrite_for, base_model=args.base_model)
    else:
        job_config = submit_job(args.job, args.provider, args.config, args.dataset_artifact)
    if args.no_reuse:
        job_config.reuse = False
    if args.schedule:
        from zenbatch.zenml_ext.schedules import run_submit_schedule

        name = run_submit_schedule(job_config, args.config, interval_seconds=args.interval, cron=args.cron)
        print(f"schedule {name} is set: each run submits the rows that are new by then; `zenbatch collect --schedule` collects them")
        return 0
    run = run_submit(job_config, config=args.config)
    step = run.steps["submit_batch"]
    job = step.outputs["batch_job"][0]
    meta, state, plan = job.run_metadata, step.run_metadata, run.steps["plan_batch"].run_metadata
    summary: dict[str, Any] = {
        "run": run.name, "job_id": meta.get("job_id"), "job": meta.get("job_name"), "requests": meta.get("requests"),
        "shards": meta.get("shards"), "batch_ids": state.get("batch_ids", []),
        "already_collected": bool(state.get("already_collected")),
        "estimated_batch_cost": meta.get("estimated_batch_cost"), "estimated_realtime_cost": meta.get("estimated_realtime_cost"),
        "reused": plan.get("reused", 0), "waiting": plan.get("waiting", 0), "reuse_saving": plan.get("reuse_saving", 0.0),
    }  # fmt: skip
    if args.json:
        print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    elif summary["already_collected"]:
        print(f"job {summary['job']} ({summary['job_id']}) was submitted and collected before: nothing submitted")
    else:
        if summary["reused"] or summary["waiting"]:
            print(
                f"{summary['reused']:,} row(s) answered by earlier jobs are reused (saving {money(summary['reuse_saving'])}); "
                f"{summary['waiting']:,} wait for another open job's answer"
            )
        if not summary["batch_ids"] and not summary["requests"]:
            print(f"job {summary['job']} ({summary['job_id']}): nothing new to send; the loader joins the answers in")
            return 0
        print(
            f"job {summary['job']} ({summary['job_id']}): {summary['requests']} requests in {summary['shards']} shard(s), "
            f"estimated {money(summary['estimated_batch_cost'])} (realtime {money(summary['estimated_realtime_cost'])})"
        )
        print(f"batches: {', '.join(summary['batch_ids']) or 'none yet (deferred by quota)'}")
        print("next: zenbatch wait  (or zenbatch collect --schedule)")
    return 0
