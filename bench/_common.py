"""Helpers for the benchmarks: figures printed as ``name=value`` lines."""

from __future__ import annotations

import resource
import time
from contextlib import contextmanager


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, value: float | int | str) -> None:
    if isinstance(value, float):
        value = f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}".replace(",", "")
    print(f"{name}={value}", flush=True)


@contextmanager
def timer():
    box = {}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - start


def sample_texts(n: int) -> list[str]:
    words = ["the", "battery", "screen", "delivery", "works", "great", "terrible", "fine", "price", "camera", "sound",
             "arrived", "late", "early", "quickly"]  # fmt: skip
    return [f"Review {i}: " + " ".join(words[(i * 7 + k) % len(words)] for k in range(8 + i % 9)) for i in range(n)]
