"""Scenarios of the reliability matrix, and the matrix: each scenario adds its line
(tests/reliability/kit.py); the session prints the table and keeps it in
test-outputs/reliability-matrix.md."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.reliability.kit import MATRIX, Scenario


@pytest.fixture
def scenario(zenml_store: Path, tmp_path: Path) -> Iterator:
    """Makes scenarios; each one's server is stopped and an unfinished job abandoned at the end."""
    from zenbatch.zenml_ext.stack import ensure_local_stack

    ensure_local_stack()
    made: list[Scenario] = []

    def make(name: str, rows: int, shard_rows: int, **faults) -> Scenario:
        made.append(Scenario(tmp_path, name, rows, shard_rows, **faults))
        return made[-1]

    yield make
    for each in made:
        each.abandon()
        each.stop()


def pytest_terminal_summary(terminalreporter) -> None:
    if not MATRIX:
        return
    columns = list(MATRIX[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in MATRIX]
    totals = {c: sum(int(row[c]) for row in MATRIX) for c in ("rows", "rows lost", "requests answered twice", "shards submitted twice")}
    lines.append("")
    lines.append(", ".join(f"{name}: {value:,}" for name, value in totals.items()))
    table = "\n".join(lines)
    out = REPO / "test-outputs" / "reliability-matrix.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("# Reliability matrix\n\n" + table + "\n")
    terminalreporter.write_sep("=", "reliability matrix")
    terminalreporter.write_line(table)
