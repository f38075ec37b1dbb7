"""``zenbatch demo``: the main job on the embedded default (local server, local model, local ZenML)."""

from __future__ import annotations

import argparse

EXAMPLES = """\
examples:
  zenbatch demo                                              # SmolLM2 on this machine, no credentials
  zenbatch demo --engine echo                                # instant answers (a quick look at the flow)
  zenbatch demo --provider openai                            # the same job on OpenAI (OPENAI_API_KEY)
  zenbatch demo --provider my-azure.yaml                     # on Azure OpenAI (key or Entra ID)
Running it again finds the job collected and submits nothing.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the whole flow on the sample job", epilog=EXAMPLES,
        description="Submit the sample review-classification job, let the scheduled loader collect it "
        "and pause itself, then label, evaluate and export fine-tuning data; print a summary.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--job", default=None, help="a job config file (default: the shipped sample job, reviews)")
    parser.add_argument(
        "--provider",
        "--config",
        dest="provider",
        default=None,
        help="a provider: openai, azure, local or a YAML file (default: the job's own; local for the sample)",
    )
    parser.add_argument("--engine", choices=["llama-cpp", "echo"], default="llama-cpp", help="the local server's engine")
    parser.add_argument("--json", action="store_true", help="machine-readable summary")
    parser.add_argument("--verbose", action="store_true", help="show ZenML's own log lines too")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    from zenbatch.cli._progress import terminal_progress
    from zenbatch.cli._zenml import use_zenml
    from zenbatch.pricing import money

    if not args.verbose:  # ZenML's own lines (every step's start and end) hide the story; --verbose shows them
        os.environ.setdefault("ZENML_LOGGING_VERBOSITY", "WARN")
    use_zenml()
    from zenbatch.zenml_ext.demo import run_demo

    say = (lambda _: None) if args.json else (lambda text: print(f"==> {text}", flush=True))
    with terminal_progress("requests", lines_every=None if args.json else 15) as progress:
        summary = run_demo(args.job, args.provider, args.engine, say, progress)
    if args.json:
        print(summary.model_dump_json(indent=2))
        return 0
    rows, cost, ev = summary.rows, summary.cost, summary.evaluation
    print()
    print(f"job        {summary.job['name']} ({summary.job['id']}) on {summary.job['provider']}, model {summary.job['model']}")
    print(f"batches    {', '.join(summary.batches) or '—'}")
    print(f"rows       {rows['rows']:,}: {rows['succeeded']:,} succeeded, {rows['failed']:,} failed, {rows['missing']:,} missing")
    print(f"tokens     {summary.tokens['prompt_tokens']:,} prompt, {summary.tokens['completion_tokens']:,} completion")
    print(
        f"cost       {money(cost['batch'])} at the batch price, {money(cost['realtime'])} at the realtime price: "
        f"saved {money(cost['saved'])} (estimated before submitting: at most {money(cost['estimated_batch'])})"
    )
    print(
        f"evaluation accuracy {ev['accuracy']:.1%}, valid answers {ev['coverage']:.1%}, macro F1 {ev['macro_f1']:.3f} over {ev['evaluated']:,} rows"
    )
    print("artifacts")
    for name, uri in summary.artifacts.items():
        print(f"  {name:18} {uri}")
    run_id = summary.runs.get("evaluation") or summary.runs.get("submit")
    print(f"dashboard  zenml login --local, then http://127.0.0.1:8237/projects/default/runs/{run_id}")
    print("           (the cards of batch_job, batch_results and evaluation_report are in each artifact's Visualization tab)")
    return 0
