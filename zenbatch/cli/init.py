"""``zenbatch init``: register and activate the local scheduling stack; list the shipped configs."""

from __future__ import annotations

import argparse

from zenbatch.errors import ConfigError

EXAMPLES = """\
examples:
  zenbatch init             # the zenbatch-local stack: scheduled loaders run on this machine
  zenbatch init --configs   # the shipped configs by name, with their files (copy one to change it)
  zenbatch init --rehearsal s3://bucket/artifacts --s3-endpoint http://127.0.0.1:5000
                            # the remote-shaped rehearsal stack (connect to a ZenML server first)
Remote stacks (Kubernetes, Vertex AI, SageMaker): `zenbatch init --configs` shows their loader configs.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "init", help="register and activate the local scheduling stack", epilog=EXAMPLES,
        description="Register (once) the zenbatch_local orchestrator flavor, an orchestrator of it and the "
        "zenbatch-local stack with the default artifact store, and make that stack active.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--configs", action="store_true", help="only list the shipped configs; change nothing")
    parser.add_argument(
        "--rehearsal",
        metavar="S3_URI",
        help="register and activate the rehearsal stack instead: every step its own process, artifacts under this s3:// path",
    )
    parser.add_argument("--s3-endpoint", metavar="URL", help="an S3-compatible endpoint for --rehearsal (moto, MinIO)")
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
    from zenbatch.zenml_ext.stack import ensure_local_stack, ensure_rehearsal_stack

    if args.rehearsal:
        if not args.rehearsal.startswith("s3://"):
            raise ConfigError(f"--rehearsal {args.rehearsal}: give the artifacts' place as s3://bucket/prefix")
        name = ensure_rehearsal_stack(args.rehearsal, args.s3_endpoint)
        print(f"active stack: {name} (each step its own process; artifacts in {args.rehearsal})")
        return 0
    if args.s3_endpoint:
        raise ConfigError("--s3-endpoint goes with --rehearsal S3_URI")
    print(f"active stack: {ensure_local_stack()} (orchestrator zenbatch-local: runs schedules on this machine)")
    return 0
