"""``zenbatch label``, ``zenbatch evaluate``, ``zenbatch finetune``: the downstream pipelines."""

from __future__ import annotations

import argparse

COMMANDS = {
    "label": ("labeling", "label the results (labeled_dataset)", "the label from each answer as a new column; invalid answers flagged"),
    "evaluate": ("evaluation", "evaluate labels against ground truth (evaluation_report)",
                 "accuracy, per-class precision / recall / F1 and a confusion matrix"),
    "finetune": ("finetune", "export chat fine-tuning data (finetune_dataset)", "train.jsonl and validation.jsonl in OpenAI's format, validated"),
}  # fmt: skip


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for command, (kind, summary, detail) in COMMANDS.items():
        parser = subparsers.add_parser(
            command, help=summary, description=f"Run the {kind} pipeline: {detail}. Works on the job of the "
            "latest batch_results, or of a pinned version; outputs are linked to the job's model version.",
            epilog=f"examples:\n  zenbatch {command}\n  zenbatch {command} --version 3 --config my-{kind}.yaml",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip
        parser.add_argument("--version", help="the batch_results version (default: the latest)")
        parser.add_argument("--config", help=f"the pipeline config (default: the shipped {kind} config)")
        parser.add_argument("--json", action="store_true", help="machine-readable output: the run and its artifacts")
        parser.set_defaults(func=run, kind=kind)


def run(args: argparse.Namespace) -> int:
    from zenbatch.cli._zenml import use_zenml

    use_zenml()
    from zenbatch.zenml_ext.runs import run_downstream

    run = run_downstream(args.kind, args.config, args.version)
    outputs = [
        {"name": name, "version": str(version.version), "id": str(version.id), "uri": version.uri, "metadata": dict(version.run_metadata)}
        for step in run.steps.values() for name, versions in step.outputs.items() for version in versions
    ]  # fmt: skip
    if args.json:
        import orjson

        print(orjson.dumps({"run": run.name, "run_id": str(run.id), "status": run.status.value, "outputs": outputs},
                           option=orjson.OPT_INDENT_2, default=str).decode())  # fmt: skip
        return 0
    print(f"{args.kind}: run {run.name} {run.status.value}")
    for output in outputs:
        print(f"  {output['name']} version {output['version']}: {output['uri']}")
    return 0
