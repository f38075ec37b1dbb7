"""Benchmarks of the local batch server; prints figures, not part of the test run.

1. echo engine: a 50,000-line batch end to end (upload -> completed -> download), in lines/s.
   Target: >= 1,000 lines/s.
2. llama-cpp engine: completion tokens/s through the server (upload -> completed -> download)
   against the same model and prompts called directly in this process. Target: >= 85%.

Run: ``.venv/bin/python bench/bench_server.py`` (``--skip-llama`` for the echo figure only).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import orjson
from openai import OpenAI

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")

from zenbatch.server import LocalBatchServer

TERMINAL = ("completed", "failed", "expired", "cancelled")
TOPICS = [
    "the sea",
    "a mountain village",
    "an old clock",
    "a lost key",
    "the first snow",
    "a lighthouse",
    "a garden at night",
    "a train journey",
    "a quiet library",
    "the desert wind",
    "a city market",
    "a river",
]


def _run_batch(client: OpenAI, content: bytes, endpoint: str = "/v1/chat/completions") -> tuple[float, list[bytes], object]:
    start = time.perf_counter()
    file = client.files.create(file=("bench.jsonl", content), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint=endpoint, completion_window="24h")
    while batch.status not in TERMINAL:
        time.sleep(0.02)
        batch = client.batches.retrieve(batch.id)
    lines = client.files.content(batch.output_file_id).content.splitlines() if batch.output_file_id else []
    return time.perf_counter() - start, lines, batch


def bench_echo(n: int, workers: int) -> float:
    content = b"".join(
        orjson.dumps({"custom_id": f"row-{i}", "method": "POST", "url": "/v1/chat/completions", "body": {
            "model": "gpt-4o-mini", "max_tokens": 10,
            "messages": [{"role": "system", "content": "Label the sentiment as positive or negative."},
                         {"role": "user", "content": f"Review {i}: the product arrived on time and works as described."}]}})
        + b"\n" for i in range(n)
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as data, LocalBatchServer(data, engine="echo", workers=workers) as server:
        client = OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=600)
        seconds, lines, batch = _run_batch(client, content)
    assert batch.status == "completed" and len(lines) == n, (batch.status, len(lines))
    rate = n / seconds
    print(
        f"echo      {n:,} lines ({len(content) / 1e6:.1f} MB) upload -> completed -> download in {seconds:.2f} s: "
        f"{rate:,.0f} lines/s (target >= 1,000) {'OK' if rate >= 1000 else 'BELOW TARGET'}"
    )
    return rate


def _prompts(count: int, max_tokens: int) -> list[dict]:
    return [{"model": "smollm2", "temperature": 0, "seed": 1, "max_tokens": max_tokens,
             "messages": [{"role": "user", "content": f"Write a short paragraph about {TOPICS[i % len(TOPICS)]}."}]}
            for i in range(count)]  # fmt: skip


def _direct(bodies: list[dict], max_tokens: int) -> tuple[int, float]:
    """Completion tokens and seconds for the prompts run straight through llama-cpp-python."""
    from llama_cpp import Llama

    from zenbatch.server.engines.llama_cpp import default_model_path

    llm = Llama(model_path=str(default_model_path()), n_ctx=2048, verbose=False)
    llm.create_chat_completion(messages=bodies[0]["messages"], max_tokens=4)  # warm up
    start = time.perf_counter()
    tokens = 0
    for body in bodies:
        result = llm.create_chat_completion(messages=body["messages"], max_tokens=max_tokens, temperature=0, seed=1)
        tokens += result["usage"]["completion_tokens"]
    seconds = time.perf_counter() - start
    llm.close()
    return tokens, seconds


def bench_llama(count: int, max_tokens: int) -> float:
    bodies = _prompts(count, max_tokens)
    content = b"".join(orjson.dumps({"custom_id": f"p{i}", "method": "POST", "url": "/v1/chat/completions", "body": b}) + b"\n"
                       for i, b in enumerate(bodies))  # fmt: skip
    # Direct runs before and after the server run, so a noisy neighbour does not favour either side.
    before = _direct(bodies, max_tokens)
    with tempfile.TemporaryDirectory() as data, LocalBatchServer(data, engine="llama-cpp", workers=2) as server:
        client = OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=600)
        _run_batch(client, content[: content.index(b"\n") + 1])  # warm up, like the direct run
        server_seconds, lines, batch = _run_batch(client, content)
    after = _direct(bodies, max_tokens)
    assert batch.status == "completed" and len(lines) == count, (batch.status, len(lines))
    server_tokens = batch.usage.output_tokens
    direct_tokens, direct_seconds = before[0] + after[0], before[1] + after[1]
    direct_rate, server_rate = direct_tokens / direct_seconds, server_tokens / server_seconds
    ratio = server_rate / direct_rate
    print(
        f"llama-cpp direct: {before[0] / before[1]:.1f} and {after[0] / after[1]:.1f} tokens/s (before, after the server run); "
        f"{direct_rate:.1f} tokens/s together"
    )
    print(
        f"llama-cpp server: {server_tokens} completion tokens in {server_seconds:.2f} s = {server_rate:.1f} tokens/s "
        f"(upload -> completed -> download)"
    )
    print(f"llama-cpp server / direct = {ratio:.1%} (target >= 85%) {'OK' if ratio >= 0.85 else 'BELOW TARGET'}")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=50_000, help="echo batch size (default 50,000)")
    parser.add_argument("--workers", type=int, default=4, help="server workers for the echo run (default 4)")
    parser.add_argument("--prompts", type=int, default=12, help="llama-cpp prompts (default 12)")
    parser.add_argument("--max-tokens", type=int, default=96, help="llama-cpp max_tokens per prompt (default 96)")
    parser.add_argument("--skip-llama", action="store_true", help="only the echo benchmark")
    args = parser.parse_args()
    ok = bench_echo(args.lines, args.workers) >= 1000
    if not args.skip_llama:
        ok = bench_llama(args.prompts, args.max_tokens) >= 0.85 and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
