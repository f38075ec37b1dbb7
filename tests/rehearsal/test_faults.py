"""Faults a remote stack has, on the rehearsal stack: a step's pod killed, a step retried by the
orchestrator, the object store refusing connections for a while. Each ends with every row
answered once and collected, and nothing paid twice.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
import yaml
from openai import OpenAI

from tests.rehearsal.kit import SENTINEL, Rehearsal
from zenbatch.defaults import config_path
from zenbatch.server import LocalBatchServer

pytestmark = [pytest.mark.pipeline, pytest.mark.rehearsal]
ROWS = 120


@contextmanager
def batch_server(folder: Path, **faults: Any) -> Iterator[LocalBatchServer]:
    server = LocalBatchServer(folder, engine="echo", api_key=SENTINEL, workers=2, **faults)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _until(condition: Callable[[], Any], what: str, process: Any = None, timeout: float = 240) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the command ended before {what}: {process.stdout.read()[-3000:]}")
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.05)
    return found


def _finish(process: Any, timeout: float = 600) -> str:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-4000:]
    return output


def _collected(rehearsal: Rehearsal, job_id: str) -> pd.DataFrame:
    status = next(j for j in orjson.loads(rehearsal.cli("status", "--json")) if j["job_id"] == job_id)
    assert status["state"] == "collected", status
    out = rehearsal.project / f"{job_id}.parquet"
    rehearsal.cli("results", job_id, "--out", str(out))
    return pd.read_parquet(out)


def _batches(server: LocalBatchServer) -> list[Any]:
    return OpenAI(base_url=server.base_url, api_key=SENTINEL).batches.list(limit=100).data


def _kill(processes: list[Any]) -> None:
    for process in processes:
        process.send_signal(signal.SIGKILL)


def test_a_loader_step_killed_during_a_download_then_the_next_scheduled_run(rehearsal, tmp_path):
    # A slow provider: the result file takes seconds to arrive, so the kill lands inside it.
    with batch_server(tmp_path / "server", download_bytes_per_second=15_000) as server:
        submitted = orjson.loads(rehearsal.cli("submit", "--job", rehearsal.job("killed-loader", server, ROWS), "--json"))
        _until(lambda: [b for b in _batches(server) if b.status == "completed"], "completed batch")
        loader = rehearsal.start("collect", "--schedule", "--interval", "2")
        _until(lambda: rehearsal.pod_files("zenbatch-pod-advance_jobs-*/home/.zenbatch/jobs/*/results/*.part"), "download", loader)
        _kill(rehearsal.step_processes("advance_jobs"))  # the pod dies in the middle of writing the file
        output = _finish(loader)
        rows = _collected(rehearsal, submitted["job_id"])
        assert "run failed (1 in a row)" in output  # the killed run, then a run that collected
        assert len(rows) == ROWS and rows["custom_id"].is_unique and (rows["status"] == "succeeded").all()
        assert set(server.execution_counts().values()) == {1} and len(_batches(server)) == 1


def test_a_submit_step_retried_by_the_orchestrator_makes_no_second_batch(rehearsal, tmp_path):
    config = yaml.safe_load(config_path("pipelines", "submit").read_text())
    config["steps"] = {"submit_batch": {"retry": {"max_retries": 2, "delay": 1}}}
    retrying = tmp_path / "submit-retry.yaml"
    retrying.write_text(yaml.safe_dump(config))
    # The provider holds its answer to the create: the batch exists, the step has not heard of it.
    with batch_server(tmp_path / "server", hold_replies={"create": 8}) as server:
        submit = rehearsal.start("submit", "--job", rehearsal.job("retried-submit", server, ROWS), "--config", str(retrying), "--json")
        _until(lambda: _batches(server), "batch created", submit)
        _kill(rehearsal.step_processes("submit_batch"))
        output = _finish(submit)
        assert "it runs again in a new process" in output
        submitted = orjson.loads(output[output.index("{") :])
        assert len(_batches(server)) == 1 and submitted["batch_ids"] == [_batches(server)[0].id]
        rehearsal.cli("collect", "--schedule", "--interval", "2")
        rows = _collected(rehearsal, submitted["job_id"])
        assert len(rows) == ROWS and (rows["status"] == "succeeded").all() and len(_batches(server)) == 1
        assert set(server.execution_counts().values()) == {1}


def test_the_object_store_refusing_connections_fails_the_run_naming_it_and_the_next_run_goes_on(rehearsal, tmp_path):
    with batch_server(tmp_path / "server") as server:
        submitted = orjson.loads(rehearsal.cli("submit", "--job", rehearsal.job("store-down", server, ROWS), "--json"))
        _until(lambda: [b for b in _batches(server) if b.status == "completed"], "completed batch")
        rehearsal.gate.open.clear()  # from now on the store refuses every connection
        loader = rehearsal.start("collect", "--schedule", "--interval", "2")
        lines: list[str] = []
        _until(lambda: lines.append(loader.stdout.readline()) or "run failed" in lines[-1], "failed run", loader)
        rehearsal.gate.open.set()  # the store is back
        output = "".join(lines) + _finish(loader)
        failure = next(line for line in output.splitlines() if "run failed" in line)
        assert rehearsal.gate.endpoint in failure or "zenbatch-rehearsal" in failure, failure  # names the store
        rows = _collected(rehearsal, submitted["job_id"])
        assert len(rows) == ROWS and (rows["status"] == "succeeded").all() and len(_batches(server)) == 1
