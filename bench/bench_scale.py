"""A 200,000-row job through the real pipelines (submit, the scheduled loader) on the local
server's echo engine with a 50,000-request limit (4 shards): wall time and peak memory of each
stage, and whether every row is accounted for. Prints figures; not part of the test run.

Run: ``.venv/bin/python bench/bench_scale.py [--rows N] [--shard-rows N]``. ZenML runs on a
store of its own in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
ROOT = Path(tempfile.mkdtemp(prefix="zenbatch-scale-"))
os.environ.update(ZENML_ANALYTICS_OPT_IN="false", ZENML_CONFIG_PATH=str(ROOT / "zenml"), ZENML_LOGGING_VERBOSITY="WARN",
                  ZENML_REPOSITORY_PATH=str(ROOT), ZENBATCH_HOME=str(ROOT / "home"))  # fmt: skip

from bench._common import report  # noqa: E402 (after ZenML's environment is set)
from bench.scale import run_scale  # noqa: E402 (likewise)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--shard-rows", type=int, default=50_000)
    args = parser.parse_args()
    from zenml.utils import source_utils

    from zenbatch.zenml_ext.stack import ensure_local_stack

    source_utils.set_custom_source_root(str(Path(__file__).resolve().parents[1]))
    ensure_local_stack()
    run = run_scale(ROOT / "work", args.rows, args.shard_rows)
    width = max(len(stage.name) for stage in run.stages)
    print(f"{'stage':{width}}  {'seconds':>8}  {'peak RSS MB':>11}  process")
    for stage in run.stages:
        print(f"{stage.name:{width}}  {stage.seconds:8.2f}  {stage.peak_rss_mb:11.0f}  {stage.process}")
    results = run.results
    lost = len(set(run.inputs) - set(results["custom_id"]))
    report("rows", run.rows)
    report("shards", run.shards)
    report("wall_seconds", run.wall_seconds)
    report("rows_succeeded", int((results["status"] == "succeeded").sum()))
    report("rows_lost", lost)
    report("requests_answered_twice", sum(1 for n in run.answered.values() if n > 1))
    ok = lost == 0 and len(results) == run.rows and all(n == 1 for n in run.answered.values())
    print("every row accounted for" if ok else "ROWS NOT ACCOUNTED FOR")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
