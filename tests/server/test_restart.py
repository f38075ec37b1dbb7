"""A restart in the middle of a batch resumes it: no finished line lost, no line run twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from tests.helpers import free_port
from tests.server.conftest import openai_client
from tests.server.kit import chat_file, read_jsonl, submit, wait_for, wait_for_counts
from zenbatch.server import LocalBatchServer

ROOT = Path(__file__).resolve().parents[2]


def _assert_each_line_once(client: OpenAI, batch_id: str, n: int, counts: Callable[[], dict[str, int]]) -> None:
    batch = wait_for(client, batch_id, timeout=60)
    assert batch.status == "completed"
    assert batch.request_counts.model_dump() == {"total": n, "completed": n, "failed": 0}
    ids = [r["custom_id"] for r in read_jsonl(client, batch.output_file_id)]
    assert sorted(ids) == sorted(f"req-{i}" for i in range(n)), "every line exactly once in the output"
    assert counts() == {f"req-{i}": 1 for i in range(n)}, "no line ran twice"


def test_stop_and_restart_in_process_resumes_the_batch(make_server, tmp_path):
    data = tmp_path / "data"
    first = make_server(data, line_delay_ms=15, workers=2)
    client = openai_client(first)
    batch = submit(client, chat_file(120))
    wait_for_counts(client, batch.id, lambda c: c.completed >= 10)

    first.stop()
    assert LocalBatchServer(data, engine="echo").execution_counts()  # state survives the stop

    second = make_server(data, workers=2)
    client = openai_client(second)
    assert client.batches.retrieve(batch.id).status in ("in_progress", "finalizing", "completed")
    _assert_each_line_once(client, batch.id, 120, second.execution_counts)


def _start_process(data: Path, port: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "ZENML_ANALYTICS_OPT_IN": "false"}
    process = subprocess.Popen(
        [sys.executable, "-m", "zenbatch", "serve", "--data-dir", str(data), "--port", str(port), "--engine", "echo", *extra],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = process.stderr.read().decode()
            process.stderr.close()
            raise AssertionError(f"zenbatch serve exited: {log[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/batches").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    process.wait(10)
    process.stderr.close()
    raise AssertionError("zenbatch serve did not answer within 30 s")


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9")
def test_killed_server_process_resumes_after_restart(tmp_path):
    data, port = tmp_path / "data", free_port()
    process = _start_process(data, port, "--line-delay-ms", "10", "--workers", "4")
    try:
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
        batch = submit(client, chat_file(300))
        wait_for_counts(client, batch.id, lambda c: c.completed >= 40)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        process.stderr.close()

        process = _start_process(data, port, "--workers", "4")
        _assert_each_line_once(client, batch.id, 300, LocalBatchServer(data, engine="echo").execution_counts)
    finally:
        process.kill()
        process.wait(10)
        process.stderr.close()


def test_sigterm_lets_running_lines_finish_and_exits(tmp_path):
    data, port = tmp_path / "data", free_port()
    process = _start_process(data, port, "--line-delay-ms", "20")
    client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
    batch = submit(client, chat_file(500))
    wait_for_counts(client, batch.id, lambda c: c.completed >= 5)

    process.send_signal(signal.SIGTERM)

    # uvicorn re-raises the signal after a clean shutdown, so the exit status is -SIGTERM.
    assert process.wait(20) in (0, -signal.SIGTERM)
    log = process.stderr.read().decode()
    process.stderr.close()
    assert "Application shutdown complete" in log
    counts = LocalBatchServer(data, engine="echo").execution_counts()
    assert 5 <= len(counts) < 500 and set(counts.values()) == {1}
