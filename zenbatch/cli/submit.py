"""``zenbatch submit``: run the submit pipeline (validate, shard, price, upload, create)."""

from __future__ import annotations

import argparse

EXAMPLES = """\
examples:
  zenbatch submit                                     # the sample job (reviews) on the local server
  zenbatch submit --job job.yaml --provider openai    # your job on OpenAI (OPENAI_API_KEY)
  zenbatch submit --job job.yaml --provider my-azure.yaml
  zenbatch submit --config submit.yaml                # a pipeline config of yours (model, tags, parameters.job)
  zenbatch submit --job job.yaml --dataset-artifact reviews:3   # rows from a ZenML DataFrame artifact
Then: zenbatch status, zenbatch wait, zenbatch collect.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "submit", help="submit a batch job (the submit pipeline)", epilog=EXAMPLES,
        description="Run the submit pipeline on the active ZenML stack: the dataset is validated, "
        "split under the provider's limits and priced; the batches are created and recorded as the "
        "artifact batch_job. Submitting the same work again reuses what was submitted.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--job", help="a job config file (dataset + template); default: the pipeline config's "
                        "parameters.job, else the shipped sample job")
    parser.add_argument("--provider", help="openai, azure, local, or a provider YAML file (default: the job's own)")
    parser.add_argument("--dataset-artifact", metavar="NAME[:VERSION]",
                        help="take the rows from a DataFrame artifact instead of the job config's file")
    parser.add_argument("--config", help="the pipeline config (default: the shipped submit config)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import orjson

    from zenbatch.cli._zenml import money, use_zenml

    use_zenml()
    from zenbatch.zenml_ext.runs import run_submit

    run = run_submit(args.job, provider_config=args.provider, config=args.config, dataset_artifact=args.dataset_artifact)
    step = run.steps["submit_batch"]
    job = step.outputs["batch_job"][0]
    meta, state = job.run_metadata, step.run_metadata
    summary = {
        "run": run.name, "job_id": meta.get("job_id"), "job": meta.get("job_name"), "requests": meta.get("requests"),
        "shards": meta.get("shards"), "batch_ids": state.get("batch_ids", []),
        "already_collected": bool(state.get("already_collected")),
        "estimated_batch_cost": meta.get("estimated_batch_cost"), "estimated_realtime_cost": meta.get("estimated_realtime_cost"),
    }  # fmt: skip
    if args.json:
        print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    elif summary["already_collected"]:
        print(f"job {summary['job']} ({summary['job_id']}) was submitted and collected before: nothing submitted")
    else:
        print(f"job {summary['job']} ({summary['job_id']}): {summary['requests']} requests in {summary['shards']} shard(s), "
              f"estimated {money(summary['estimated_batch_cost'])} (realtime {money(summary['estimated_realtime_cost'])})")
        print(f"batches: {', '.join(summary['batch_ids']) or 'none yet (deferred by quota)'}")
        print("next: zenbatch wait  (or zenbatch collect --schedule)")
    return 0
