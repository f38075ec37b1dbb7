"""``zenbatch init``: register and activate the local scheduling stack."""

from __future__ import annotations

import argparse

EXAMPLES = """\
examples:
  zenbatch init            # the zenbatch-local stack: scheduled loaders run on this machine
Remote stacks (Kubernetes, Vertex AI, SageMaker): see configs/stacks/.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "init", help="register and activate the local scheduling stack", epilog=EXAMPLES,
        description="Register (once) the zenbatch_local orchestrator flavor, an orchestrator of it and the "
        "zenbatch-local stack with the default artifact store, and make that stack active.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from zenbatch.cli._zenml import use_zenml

    use_zenml()
    from zenbatch.zenml_ext.stack import ensure_local_stack

    print(f"active stack: {ensure_local_stack()} (orchestrator zenbatch-local: runs schedules on this machine)")
    return 0
