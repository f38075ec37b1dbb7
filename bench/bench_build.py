"""Build, validate and write 1,000,000 chat requests; compare with iterrows + json.dumps.

Targets on a 2-core machine: >= 250,000 rows/s, >= 10x the naive baseline, peak RSS <= 2 GB.
The baseline runs on a 100,000-row slice (it is slow) and is compared by rate.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import peak_rss_mb, report, sample_texts, timer
from zenbatch.providers.profile import Dialect
from zenbatch.requests import build_requests
from zenbatch.shards import plan_shards
from zenbatch.templates import RequestTemplate

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
BASELINE_ROWS = min(ROWS, 100_000)
SYSTEM = "You label product reviews as positive, negative or neutral. Answer with one word."


def naive(frame: pd.DataFrame, path: Path) -> None:
    with path.open("w") as handle:
        for i, row in frame.iterrows():
            line = {
                "custom_id": f"row-{i}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {
                    "model": "gpt-4o-mini",
                    "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": row["text"]}],
                    "max_tokens": 5,
                },
            }
            handle.write(json.dumps(line) + "\n")


def main() -> None:
    frame = pd.DataFrame({"text": sample_texts(ROWS)})
    template = RequestTemplate(model="gpt-4o-mini", system_prompt=SYSTEM, user_template="{text}", parameters={"max_tokens": 5})
    rss_before = peak_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        with timer() as ours:
            requests = build_requests(frame, template, Dialect())
            plan = plan_shards(requests.iter_chunks(), Dialect().limits, out_dir=Path(tmp) / "shards")
        assert plan.requests == ROWS
        rss_after = peak_rss_mb()
        with timer() as base:
            naive(frame.head(BASELINE_ROWS), Path(tmp) / "naive.jsonl")
    rate = ROWS / ours["seconds"]
    base_rate = BASELINE_ROWS / base["seconds"]
    report("build_rows", ROWS)
    report("build_shards", len(plan.shards))
    report("build_seconds", ours["seconds"])
    report("build_rows_per_s", rate)
    report("baseline_rows_per_s", base_rate)
    report("build_speedup_vs_baseline", rate / base_rate)
    report("build_peak_rss_mb", rss_after)
    report("build_rss_before_mb", rss_before)
    ok = rate >= 250_000 and rate / base_rate >= 10 and rss_after <= 2048
    report("build_targets_met", str(ok).lower())


if __name__ == "__main__":
    main()
