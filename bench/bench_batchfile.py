"""Estimate an existing batch file of 100,000 chat lines: every line parsed, its body checked
the way the provider checks it, its tokens counted, planned into shards and priced.

Target on a 2-core machine: >= 20,000 lines/s. Run: ``.venv/bin/python bench/bench_batchfile.py [LINES]``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import tempfile
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import peak_rss_mb, report, sample_texts, timer
from zenbatch.estimate import estimate_file

LINES = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
REPEATS = 3
BODIES = importlib.util.find_spec("zenbatch.bodies") is not None  # no body checks in older code
SCHEMA = {"type": "object", "properties": {"sentiment": {"type": "string", "enum": ["positive", "negative", "neutral"]}},
          "required": ["sentiment"], "additionalProperties": False}  # fmt: skip


def line(i: int, text: str) -> bytes:
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Label the review."}, {"role": "user", "content": text}],
        "max_tokens": 10 + i % 5, "temperature": (i % 3) / 2,
        "response_format": {"type": "json_schema", "json_schema": {"name": "label", "strict": True, "schema": SCHEMA}},
    }  # fmt: skip
    return orjson.dumps({"custom_id": f"row-{i}", "method": "POST", "url": "/v1/chat/completions", "body": body})


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "requests.jsonl"
        path.write_bytes(b"\n".join(line(i, text) for i, text in enumerate(sample_texts(LINES))) + b"\n")
        with timer() as first:  # in a fresh process: the tokenizer's encoding is loaded too
            estimate = estimate_file(path)
        best = first["seconds"]
        # The body checks remember the shapes that passed; forgotten before each run, every line is checked anew.
        passed: set[bytes] = importlib.import_module("zenbatch.bodies")._PASSED if BODIES else set()
        for _ in range(REPEATS):  # the best of a few more: a figure a noisy machine repeats
            passed.clear()
            with timer() as took:
                estimate_file(path)
            best = min(best, took["seconds"])
        report("batchfile_lines", estimate.requests)
        report("batchfile_mb", path.stat().st_size / 1e6)
        report("batchfile_first_seconds", first["seconds"])
        report("batchfile_estimate_seconds", best)
        report("batchfile_lines_per_s", estimate.requests / best)
        report("batchfile_peak_rss_mb", peak_rss_mb())


if __name__ == "__main__":
    main()
