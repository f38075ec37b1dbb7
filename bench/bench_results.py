"""Parse a 1,000,000-line output file of chat completion bodies and join it to the inputs.

Targets on a 2-core machine: >= 250,000 rows/s and a peak RSS <= 1 GB, the whole process (its
input frame included). The speedup over a naive baseline (``json.loads`` per line,
``pd.json_normalize`` and a merge) is reported too; the baseline runs on a 200,000-line slice
after the peak RSS is taken and is compared by rate.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

import orjson
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import peak_rss_mb, report, sample_texts, timer
from zenbatch.pricing import PriceTable
from zenbatch.results import ResultParser, join_results

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
BASELINE_ROWS = min(ROWS, 200_000)
TARGET_ROWS_PER_S = 250_000
TARGET_PEAK_RSS_MB = 1024


def write_output(path: Path, ids: list[str]) -> None:
    rng = random.Random(1)
    order = list(range(len(ids)))
    rng.shuffle(order)  # results arrive in any order
    with path.open("wb") as handle:
        for i in order:
            label = ("positive", "negative", "neutral")[i % 3]
            body = {
                "id": f"chatcmpl-{i:010d}", "object": "chat.completion", "created": 1767225600,
                "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_0123456789",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": f'{{"sentiment": "{label}"}}',
                             "refusal": None, "annotations": []}, "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 60 + i % 40, "completion_tokens": 7, "total_tokens": 67 + i % 40,
                          "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                        "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
                "service_tier": "default",
            }  # fmt: skip
            line = {"id": f"batch_req_{i:012d}", "custom_id": ids[i],
                    "response": {"status_code": 200, "request_id": f"req_{i:012d}", "body": body}, "error": None}  # fmt: skip
            handle.write(orjson.dumps(line) + b"\n")


def input_frame(texts: list[str]) -> pd.DataFrame:
    """The inputs with their text in Arrow, as a dataset reader gives them (pandas' own conversion of the list keeps ~140 MB more)."""
    return pd.DataFrame({"text": pa.array(texts, pa.large_string(), memory_pool=pa.system_memory_pool()).to_pandas()})


def naive(path: Path, inputs: pd.DataFrame, limit: int) -> pd.DataFrame:
    records = []
    with path.open() as handle:
        for number, line in enumerate(handle):
            if number >= limit:
                break
            records.append(json.loads(line))
    flat = pd.json_normalize(records)
    flat["content"] = flat["response.body.choices"].map(lambda c: c[0]["message"]["content"])
    flat["parsed"] = flat["content"].map(json.loads)
    return inputs.merge(flat, on="custom_id", how="left")


def main() -> None:
    ids = [f"r{i:08d}" for i in range(ROWS)]
    inputs = input_frame(sample_texts(ROWS))
    table = PriceTable.default()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "output.jsonl"
        write_output(path, ids)
        report("results_file_mb", path.stat().st_size / 1e6)
        with timer() as ours:
            parser = ResultParser(structured=True)
            parser.feed_file(path)
            results = join_results(inputs, ids, parser.frame(), table=table, pricing_model="gpt-4o-mini")
        assert len(results) == ROWS and (results["status"] == "succeeded").all()
        rss = peak_rss_mb()
        with timer() as base:
            baseline = naive(path, inputs.assign(custom_id=ids), BASELINE_ROWS)
        assert len(baseline) == ROWS
    rate = ROWS / ours["seconds"]
    base_rate = BASELINE_ROWS / base["seconds"]
    report("results_rows", ROWS)
    report("results_seconds", ours["seconds"])
    report("results_rows_per_s", rate)
    report("results_baseline_rows_per_s", base_rate)
    report("results_speedup_vs_baseline", rate / base_rate)
    report("results_peak_rss_mb", rss)
    report("results_targets_met", str(rate >= TARGET_ROWS_PER_S and rss <= TARGET_PEAK_RSS_MB).lower())


if __name__ == "__main__":
    main()
