"""200,000 rows through the real pipelines with a 50,000-request limit: four shards, every row
accounted for, nothing answered twice. The figures of each stage (wall time, peak memory) are
kept in test-outputs/scale.md; ``bench/bench_scale.py`` prints the same run's figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.scale import run_scale
from tests.conftest import REPO
from tests.reliability.kit import MATRIX

pytestmark = pytest.mark.pipeline
ROWS, SHARD_ROWS = 200_000, 50_000


def test_two_hundred_thousand_rows_in_four_shards_are_all_accounted_for(zenml_store: Path, tmp_path: Path):
    from zenbatch.zenml_ext.stack import ensure_local_stack

    ensure_local_stack()
    run = run_scale(tmp_path, ROWS, SHARD_ROWS)

    assert run.shards == 4 and {b.request_counts.total for b in run.batches} == {SHARD_ROWS}
    assert run.results["custom_id"].tolist() == run.inputs
    assert set(run.results["status"]) == {"succeeded"}
    assert len(run.answered) == ROWS and set(run.answered.values()) == {1}
    by_content = {(b.metadata or {}).get("zenbatch_sha256") for b in run.batches}
    assert len(by_content) == 4  # four distinct shards, none submitted twice

    lines = ["| stage | seconds | peak RSS MB | process |", "|---|---|---|---|"]
    lines += [f"| {s.name} | {s.seconds:.2f} | {s.peak_rss_mb:.0f} | {s.process} |" for s in run.stages]
    out = REPO / "test-outputs" / "scale.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"# {ROWS:,} rows, {run.shards} shards, {run.wall_seconds:.1f} s wall\n\n" + "\n".join(lines) + "\n")
    status = run.results["status"]
    MATRIX.append({
        "scenario": "scale", "rows": len(run.results), "faults survived": "none (load)",
        "succeeded": int((status == "succeeded").sum()), "failed": int((status == "failed").sum()),
        "rows lost": ROWS - len(run.results), "requests answered twice": sum(1 for n in run.answered.values() if n > 1),
        "shards submitted twice": len(run.batches) - len(by_content), "batches": len(run.batches),
        "attempts (max)": int(run.results["attempts"].max()),
    })  # fmt: skip
