"""The ``zenbatch`` command.

Each subcommand lives in its own module of this package exposing ``register(subparsers)``,
which adds its parser and sets ``func(args) -> int`` (the exit code) as the parser's default.
Modules are found by listing the package, in alphabetical order.

Exit codes: 0 success, 1 the work failed (a batch failed, a budget was exceeded),
2 bad input or usage (validation errors, a missing setting), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from zenbatch.errors import ZenbatchError

EXIT_USAGE = 2


def command_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zenbatch",
        description="LLM batch inference through provider batch APIs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f"zenbatch.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except ZenbatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", EXIT_USAGE)
