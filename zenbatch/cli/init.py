"""``zenbatch init``: register and activate the local scheduling stack; list the shipped configs."""

from __future__ import annotations

import argparse

EXAMPLES = """\
examples:
  zenbatch init             # the zenbatch-local stack: scheduled loaders run on this machine
  zenbatch init --configs   # the shipped configs by name, with their files (copy one to change it)
Remote stacks (Kubernetes, Vertex AI, SageMaker): `zenbatch init --configs` shows their loader configs.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "init", help="register and activate the local scheduling stack", epilog=EXAMPLES,
        description="Register (once) the zenbatch_local orchestrator flavor, an orchestrator of it and the "
        "zenbatch-local stack with the default artifact store, and make that stack active.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--configs", action="store_true", help="only list the shipped configs; change nothing")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.configs:
        from zenbatch.defaults import config_path, shipped

        for kind in ("jobs", "providers", "pipelines", "stacks"):
            print(f"{kind}:")
            for name in shipped(kind):
                print(f"  {name:12} {config_path(kind, name)}")
        return 0
    from zenbatch.cli._zenml import use_zenml

    use_zenml()
    from zenbatch.zenml_ext.stack import ensure_local_stack

    print(f"active stack: {ensure_local_stack()} (orchestrator zenbatch-local: runs schedules on this machine)")
    return 0
