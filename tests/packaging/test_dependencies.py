"""Every third-party package zenbatch imports is one its wheel declares.

A missing declaration only shows on a machine that lacks the package (``httpx`` came along with
another package here, and ``zenbatch demo`` failed on a fresh venv). So the imports are read
from the source and matched against ``pyproject.toml``: anything imported at a module's top level
outside ``zenml_ext`` must be a core dependency; everything else at least an extra's.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "zenbatch"


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    core = _requirement_names(project["dependencies"])
    extras = {name for group, deps in project["optional-dependencies"].items() if group != "test" for name in _requirement_names(deps)}
    if "zenml" in extras:
        extras |= {"sqlalchemy", "pydantic-settings", "rich"}  # what zenml[local,server] itself guarantees
    return core, core | extras


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(top-level imports, all imports) of a module, by first name, outside TYPE_CHECKING blocks."""
    tree = ast.parse(path.read_text())
    top: set[str] = set()
    every: set[str] = set()
    type_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                 for n in ast.walk(node)}  # fmt: skip
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module.split(".")[0]]
        every.update(names)
        if node in tree.body:
            top.update(names)
    return top, every


@functools.cache
def _providers() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _distributions(module: str) -> set[str]:
    return {d.lower().replace("_", "-") for d in _providers().get(module, [])}


def test_every_import_is_declared():
    core, declared = _declared()
    undeclared, not_core = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        top, every = _imports(path)
        where = path.relative_to(REPO)
        for module in sorted(every - set(sys.stdlib_module_names) - {"zenbatch"}):
            dists = _distributions(module)
            assert dists, f"{where} imports {module!r}, which no installed distribution provides"
            if not dists & declared:
                undeclared.append(f"{where}: {module} ({', '.join(sorted(dists))})")
            elif module in top and "zenml_ext" not in where.parts and not dists & core:
                not_core.append(f"{where}: {module} ({', '.join(sorted(dists))})")
    assert not undeclared, "imported but not declared in pyproject.toml: " + "; ".join(undeclared)
    assert not not_core, "imported at the top of a core module but only an extra's dependency: " + "; ".join(not_core)
