"""``zenbatch collect``: one loader pass now, or the scheduled loader until it pauses itself."""

from __future__ import annotations

import argparse

EXAMPLES = """\
examples:
  zenbatch collect                         # one pass: poll, collect finished jobs, resubmit failures
  zenbatch collect --schedule              # the loader on its schedule (the shipped loader config)
  zenbatch collect --schedule --interval 60
  zenbatch collect --schedule --config vertex   # the shipped Vertex AI loader config (or kubernetes, sagemaker, a file)
On the local stack the scheduled loader runs here until no job is open, then pauses itself;
on Kubernetes, Vertex AI or SageMaker the schedule runs there and pauses itself the same way.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "collect", help="run the loader: collect finished jobs, resubmit failures", epilog=EXAMPLES,
        description="Run the loader pipeline once, or on a schedule that pauses itself when no job is open.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--schedule", action="store_true", help="run the loader on a schedule until nothing is open")
    parser.add_argument("--interval", type=int, help="seconds between scheduled runs (default from the config)")
    parser.add_argument("--cron", help="a cron expression instead of an interval (6 fields on SageMaker)")
    parser.add_argument("--config", help="the loader's pipeline config: a file, or a shipped one (loader, kubernetes, vertex, sagemaker)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from zenbatch.cli._zenml import use_zenml

    use_zenml()
    from zenbatch.zenml_ext.runs import run_loader_once
    from zenbatch.zenml_ext.schedules import run_loader

    if args.schedule:
        name = run_loader(args.config, interval_seconds=args.interval, cron=args.cron)
        print(f"schedule {name} is set; it pauses itself once no job is open (zenbatch status shows the jobs)")
        return 0
    report = run_loader_once(args.config)
    print(f"collected {len(report.collected)} job(s); {report.still_open} still open")
    return 0
