"""A large job through the real pipelines, measured stage by stage: wall time and peak memory.

The local batch server (echo engine) runs in a process of its own, so the pipeline process's
memory is measured apart from the server's. Stages are the steps of the submit run, the
server's work (from the first batch created to the last completed), and the steps of the
loader run that collected the job. The caller sets up ZenML (a store and the local scheduling
stack); ``bench/bench_scale.py`` prints the figures and ``tests/reliability/test_scale.py``
checks that every row is accounted for.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from openai import OpenAI

from zenbatch.server.store import DB_NAME, read_execution_counts


@dataclass
class Stage:
    name: str
    seconds: float
    peak_rss_mb: float
    process: str = "pipelines"


@dataclass
class ScaleRun:
    rows: int
    shards: int
    job_id: str
    results: pd.DataFrame
    inputs: list[str]
    answered: dict[str, int]
    batches: list[Any]
    stages: list[Stage] = field(default_factory=list)
    wall_seconds: float = 0.0


class RssSampler:
    """The resident memory of some processes, sampled every ``every`` seconds, with timestamps."""

    def __init__(self, pids: dict[str, int], every: float = 0.05):
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.samples: dict[str, list[tuple[float, int]]] = {name: [] for name in pids}
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            now = time.time()
            for name, process in self.processes.items():
                try:
                    self.samples[name].append((now, process.memory_info().rss))
                except psutil.Error:
                    continue

    def peak_mb(self, name: str, start: float, end: float) -> float:
        inside = [rss for t, rss in self.samples[name] if start <= t <= end]
        return max(inside, default=0) / 2**20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _epoch(moment: dt.datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


def _start_server(folder: Path, port: int, shard_rows: int, *options: str) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "zenbatch", "serve", "--engine", "echo", "--port", str(port), "--workers", "4",
         "--data-dir", str(folder / "server"), "--max-requests", str(shard_rows), *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0, timeout=5)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            client.batches.list(limit=1)
            return server
        except Exception:  # not listening yet
            if server.poll() is not None:
                raise RuntimeError(f"the batch server exited with {server.returncode}") from None
            time.sleep(0.2)
    raise TimeoutError("the batch server did not start within 60 s")


def write_rows(path: Path, rows: int) -> int:
    """The job's dataset (``row_id``, ``text``), written as Parquet a chunk at a time; returns its bytes."""
    words = ["battery", "screen", "delivery", "works", "great", "terrible", "fine", "price", "camera", "sound", "arrived", "late"]
    schema = pa.schema([("row_id", pa.string()), ("text", pa.string())])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, 100_000):
            numbers = range(start, min(rows, start + 100_000))
            writer.write_table(pa.table({
                "row_id": [f"row-{i:07d}" for i in numbers],
                "text": [f"Review {i}: " + " ".join(words[(i * 7 + k) % len(words)] for k in range(6 + i % 7)) for i in numbers],
            }, schema=schema))  # fmt: skip
    return path.stat().st_size


def write_job(folder: Path, name: str, shard_rows: int, **provider: Any) -> int:
    """``job.yaml`` over ``rows.parquet`` and ``provider.yaml`` for a local server limited to ``shard_rows`` a batch
    (``provider``: more provider settings); returns its port."""
    port = _free_port()
    (folder / "provider.yaml").write_text(yaml.safe_dump(
        {"kind": "local", "base_url": f"http://127.0.0.1:{port}/v1", "limits": {"max_requests": shard_rows}, **provider}))  # fmt: skip
    (folder / "job.yaml").write_text(yaml.safe_dump({
        "name": name, "dataset": {"path": "rows.parquet"}, "provider": "provider.yaml",
        "template": {"endpoint": "/v1/chat/completions", "model": "gpt-4o-mini", "id_column": "row_id",
                     "system_prompt": "Label the review's sentiment.", "user_template": "{text}",
                     "parameters": {"max_tokens": 16, "temperature": 0}},
    }))  # fmt: skip
    return port


def run_scale(folder: Path, rows: int = 200_000, shard_rows: int = 50_000, loader_interval: int = 5) -> ScaleRun:
    """Submit a ``rows``-row job split into shards of ``shard_rows``, collect it with the scheduled loader."""
    from zenml.client import Client

    from zenbatch.zenml_ext.registry import RESULTS_ARTIFACT, newest_of_job
    from zenbatch.zenml_ext.runs import run_submit
    from zenbatch.zenml_ext.schedules import run_loader

    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"row-{i:07d}" for i in range(rows)]
    write_rows(folder / "rows.parquet", rows)
    port = write_job(folder, f"scale-{rows}", shard_rows)
    server = _start_server(folder, port, shard_rows)
    baseline = psutil.Process().memory_info().rss / 2**20  # this process before the job: ZenML, pandas, the rows
    started = time.time()
    try:
        with RssSampler({"pipelines": os.getpid(), "server": server.pid}) as sampler:
            submitted = run_submit(str(folder / "job.yaml"), provider_config=str(folder / "provider.yaml"))
            job_id = str(submitted.steps["submit_batch"].run_metadata["job_id"])
            schedule = run_loader(name=f"scale-loader-{job_id}", interval_seconds=loader_interval,
                                  end_time=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20))  # fmt: skip
        wall = time.time() - started
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
        batches = client.batches.list(limit=100).data
    finally:
        server.terminate()
        server.wait(timeout=60)
    results_version = newest_of_job(RESULTS_ARTIFACT, job_id)
    if results_version is None:
        raise RuntimeError(f"job {job_id} was not collected by the loader (schedule {schedule})")
    loader_runs = Client().list_pipeline_runs(schedule_id=Client().get_schedule(schedule).id, sort_by="asc:created", size=100).items
    stages = [Stage("before the job (baseline of this process)", 0.0, baseline)]
    stages += [_step_stage(f"submit: {name}", step, sampler) for name, step in submitted.steps.items()]
    first, last = min(b.created_at for b in batches), max(b.completed_at or b.created_at for b in batches)
    stages.append(Stage("server: run every request (echo)", float(last - first), sampler.peak_mb("server", first, last + 1), "server"))
    collecting = loader_runs[-1]
    stages += [_step_stage(f"loader: {name}", step, sampler) for name, step in collecting.steps.items()]
    return ScaleRun(
        rows=rows, shards=len(batches), job_id=job_id, results=results_version.load().to_pandas(), inputs=ids,
        answered=read_execution_counts(folder / "server" / DB_NAME, succeeded_only=True), batches=batches,
        stages=stages, wall_seconds=wall,
    )  # fmt: skip


def _step_stage(name: str, step: Any, sampler: RssSampler) -> Stage:
    start, end = _epoch(step.start_time), _epoch(step.end_time)
    return Stage(name, end - start, sampler.peak_mb("pipelines", start, end))
