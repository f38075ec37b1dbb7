"""A batch job under faults, through the real pipelines, and the promises checked after it.

A :class:`Scenario` owns a local batch server (echo engine, faults of the test's choosing) on
a port of its own, so the server can be stopped and started again at the same address, and a
job of ``rows`` rows whose provider splits it into shards of ``shard_rows``. After the faults,
:meth:`Scenario.check` proves the promises and returns the scenario's line of the matrix:

- every input row has exactly one final row in ``batch_results`` (none lost, none doubled);
- no request was answered twice by the server (what a provider bills);
- no shard (by content and attempt) was submitted twice, and no input file uploaded twice.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from openai import OpenAI

from tests.conftest import REPO
from tests.helpers import free_port
from zenbatch.server import LocalBatchServer

LOADER_DEADLINE = 240  # seconds a scenario's loader may take before the test fails instead of hanging
MATRIX: list[dict[str, Any]] = []  # the lines of the matrix, printed at the end of the session


class Scenario:
    """One job, one server, one fault story."""

    def __init__(self, folder: Path, name: str, rows: int, shard_rows: int, max_attempts: int = 3, **faults: Any):
        self.folder, self.name, self.rows, self.max_attempts = folder, name, rows, max_attempts
        self.port = free_port()
        self.server: LocalBatchServer | None = None
        self.faults_survived: list[str] = []
        self.frame = pd.DataFrame({"row_id": [f"{name}-{i:06d}" for i in range(rows)], "text": [f"review {i} of {name}" for i in range(rows)]})
        self.frame.to_csv(folder / f"{name}.csv", index=False)
        self.provider = folder / f"{name}-provider.yaml"
        self.provider.write_text(yaml.safe_dump({
            "kind": "local", "base_url": f"http://127.0.0.1:{self.port}/v1", "limits": {"max_requests": shard_rows},
        }))  # fmt: skip
        self.job = folder / f"{name}.yaml"
        self.job.write_text(yaml.safe_dump({
            "name": name, "dataset": {"path": f"{name}.csv"},
            "template": {"endpoint": "/v1/chat/completions", "model": "gpt-4o-mini", "id_column": "row_id",
                         "user_template": "{text}", "parameters": {"max_tokens": 16, "temperature": 0}},
            "provider": str(self.provider),
        }))  # fmt: skip
        self.start(**faults)

    # the server ---------------------------------------------------------------------------------

    def start(self, **faults: Any) -> LocalBatchServer:
        faults.setdefault("workers", 4)
        self.server = LocalBatchServer(self.folder / f"{self.name}-server", engine="echo", port=self.port, **faults).start()
        return self.server

    def restart(self, **faults: Any) -> LocalBatchServer:
        self.stop()
        return self.start(**faults)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    @property
    def client(self) -> OpenAI:
        return OpenAI(base_url=f"http://127.0.0.1:{self.port}/v1", api_key="unused", max_retries=0)

    def wait_server(self, predicate: Any, what: str, timeout: float = 60.0) -> None:
        """Polls the server's batches until ``predicate(batches)`` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.client.batches.list(limit=100).data):
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: the server never showed {what} within {timeout} s")

    # the pipelines ------------------------------------------------------------------------------

    def submit(self) -> str:
        """The submit pipeline in this process; returns the job id."""
        from zenbatch.zenml_ext.runs import run_submit

        run = run_submit(str(self.job), provider_config=str(self.provider))
        self.job_id = str(run.steps["submit_batch"].run_metadata["job_id"])
        return self.job_id

    def collect(self) -> None:
        """The scheduled loader until it pauses itself (or the deadline passes)."""
        from zenbatch.zenml_ext.schedules import run_loader

        deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LOADER_DEADLINE)
        run_loader(name=f"{self.name}-loader", interval_seconds=1, end_time=deadline)

    def cli(self, *args: str) -> subprocess.Popen:
        """``zenbatch ARGS`` in a new process on the same ZenML store, so it can be killed."""
        env = {**os.environ, "ZENML_LOGGING_VERBOSITY": "INFO"}
        return subprocess.Popen([sys.executable, "-m", "zenbatch", *args], cwd=REPO, env=env, start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip

    def cli_submit(self) -> subprocess.Popen:
        return self.cli("submit", "--job", str(self.job), "--provider", str(self.provider))

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def job_state(self) -> Any:
        from zenbatch.zenml_ext.registry import JOB_ARTIFACT, newest_of_job

        version = newest_of_job(JOB_ARTIFACT, self.job_id)
        assert version is not None, f"{self.name}: job {self.job_id} has no saved state"
        return version.load()

    def results(self) -> pd.DataFrame:
        from zenbatch.zenml_ext.registry import RESULTS_ARTIFACT, versions_tagged

        versions = versions_tagged(f"zenbatch-job-{self.job_id}", name=RESULTS_ARTIFACT)
        assert len(versions) == 1, f"{self.name}: {len(versions)} batch_results versions, one expected"
        return versions[0].load().to_pandas()

    def abandon(self) -> None:
        """Takes an unfinished job off the open list, so later loaders do not wait for it."""
        from zenml import remove_tags

        from zenbatch.zenml_ext.registry import JOB_ARTIFACT, versions_tagged
        from zenbatch.zenml_ext.tags import OPEN_TAG

        for version in versions_tagged(f"zenbatch-job-{getattr(self, 'job_id', '-')}", OPEN_TAG, name=JOB_ARTIFACT):
            remove_tags(tags=[OPEN_TAG], artifact_version_id=version.id)

    # the promises -------------------------------------------------------------------------------

    def line(self, results: pd.DataFrame) -> dict[str, Any]:
        """This scenario's line of the matrix, counted from the results and the server."""
        assert self.server is not None
        answered = self.server.execution_counts(succeeded_only=True)
        tries = self.server.execution_counts()
        batches = self.client.batches.list(limit=100).data
        by_content = Counter((b.metadata or {}).get("zenbatch_sha256", "") + "/" + (b.metadata or {}).get("zenbatch_attempt", "") for b in batches)
        return {
            "scenario": self.name, "rows": len(results), "faults survived": ", ".join(self.faults_survived) or "none",
            "succeeded": int((results["status"] == "succeeded").sum()), "failed": int((results["status"] == "failed").sum()),
            "rows lost": len(self.frame) - len(results), "requests answered twice": sum(1 for n in answered.values() if n > 1),
            "shards submitted twice": sum(1 for n in by_content.values() if n > 1), "batches": len(batches),
            "attempts (max)": max(tries.values()),
        }  # fmt: skip

    def check(self) -> dict[str, Any]:
        """Every promise of the module docstring; returns this scenario's line of the matrix."""
        results = self.results()
        ids = self.frame["row_id"].tolist()
        assert results["custom_id"].tolist() == ids, f"{self.name}: batch_results rows differ from the input rows"
        assert set(results["status"]) <= {"succeeded", "failed"}, f"{self.name}: rows not final: {Counter(results['status'])}"
        assert self.server is not None
        answered = self.server.execution_counts(succeeded_only=True)
        twice = {cid: n for cid, n in answered.items() if n > 1}
        assert not twice, f"{self.name}: requests answered more than once: {dict(list(twice.items())[:5])}"
        succeeded = set(results.loc[results["status"] == "succeeded", "custom_id"])
        assert set(answered) == succeeded, f"{self.name}: rows marked succeeded differ from the requests answered"
        tries = self.server.execution_counts()
        assert max(tries.values()) <= self.max_attempts, f"{self.name}: a request ran more than max_attempts times"
        line = self.line(results)
        assert line["shards submitted twice"] == 0, f"{self.name}: shards submitted more than once"
        uploads = self.server.upload_counts()
        assert max(uploads.values()) == 1, f"{self.name}: input files uploaded more than once: {uploads}"
        job = self.job_state()
        held = {f.id for f in self.client.files.list().data}
        left = [i for s in job.shards for i in (s.input_file_id, s.output_file_id, s.error_file_id) if i in held]
        assert not left, f"{self.name}: files of the collected job left at the provider: {left}"
        assert job.collected and len({s.batch_id for s in job.shards if s.batch_id}) == line["batches"]
        MATRIX.append(line)
        return line
